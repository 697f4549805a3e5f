/*
 * Libraries one role needs and the others must not carry.  Every role
 * is an exec of the same binary, and each library it links costs every
 * role its relocated pages, private to each process: libcurl with its
 * thirty dependencies and OpenSSL alone made up most of the daemon's
 * memory.  So libcurl is opened by the engine and OpenSSL by the api,
 * and only when the configuration asks for HTTP checks, heartbeats or
 * TLS.  A sandboxed role cannot map new code, so the parent tells a
 * role at its start (-L) what to open before its sandbox, and replaces
 * it when a reload asks for more.
 */

#include <dlfcn.h>
#include <stddef.h>

#include "phpeekd.h"

int	dl_wanted;	/* DL_*, from -L */

/*
 * Open file and look up each symbol, in it and in the libraries it
 * pulls in; fatal, as a missing one would be at link time.
 */
void
dl_load(const char *file, const struct dl_sym *syms, size_t n)
{
	void	*h;
	size_t	 i;

	if ((h = dlopen(file, RTLD_NOW | RTLD_LOCAL)) == NULL)
		fatalx("cannot load %s: %s", file, dlerror());
	for (i = 0; i < n; i++)
		if ((*syms[i].ds_ptr = dlsym(h, syms[i].ds_name)) == NULL)
			fatalx("%s: no symbol %s", file, syms[i].ds_name);
}

/* What role id must have opened to run configuration cf. */
int
dl_needs(const struct phpeekd_conf *cf, enum privsep_procid id)
{
	const struct global_conf	*gc = &cf->cf_global;
	const struct proc_conf		*pc;
	const struct heartbeat_conf	*hb;

	if (id == PROC_API)
		return (gc->gc_api_tls.tls_enabled ||
		    gc->gc_metrics_tls.tls_enabled ? DL_TLS : 0);
	if (id != PROC_ENGINE)
		return (0);
	TAILQ_FOREACH(pc, &cf->cf_procs, pc_entry) {
		if (!pc->pc_enabled)
			continue;
		hb = &pc->pc_heartbeat;
		if (pc->pc_health.hc_type == HC_HTTP || hb->hb_url != NULL ||
		    hb->hb_success_url != NULL || hb->hb_failure_url != NULL)
			return (DL_CURL);
	}
	return (0);
}
