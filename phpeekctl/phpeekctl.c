/*
 * phpeekctl: the administration client of phpeekd, over the control
 * socket (libcurl) with phpeek-pm's REST API (json-c).
 *
 * Exit status: 0 done, 1 refused by the daemon (its message is
 * printed), 2 usage, 3 the daemon cannot be reached.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <curl/curl.h>
#include <err.h>
#include <errno.h>
#include <json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PHPEEKCTL_VERSION	"0.1.0"
#define PHPEEKCTL_SOCKET	"/run/phpeekd.sock"
#ifndef PHPEEKD_SHAREDIR
#define PHPEEKD_SHAREDIR	"/usr/local/share/phpeekd"
#endif

struct reply {
	char	*r_body;
	size_t	 r_len;
	long	 r_status;
	char	 r_type[128];
};

static const char	*ctl_socket = PHPEEKCTL_SOCKET;
static const char	*ctl_token;
static int		 ctl_json;

static void	usage(void) __attribute__((__noreturn__));
static size_t	ctl_write(char *, size_t, size_t, void *);
static size_t	ctl_header(char *, size_t, size_t, void *);
static const char *ctl_unreachable(CURLcode, const char *);
static void	ctl_request(const char *, const char *, const char *,
		    struct reply *);
static void	ctl_proc_path(char *, size_t, const char *, const char *);
static int	ctl_done(struct reply *, struct json_object **);
static int	ctl_raw(struct reply *);

/* libcurl refuses an option only when it is built without it. */
#define CTL_SETOPT(c, opt, val) do {					\
	if (curl_easy_setopt((c), (opt), (val)) != CURLE_OK)		\
		errx(1, "libcurl: cannot set %s", #opt);		\
} while (0)

static void
usage(void)
{
	fprintf(stderr, "usage: %s [-j] [-s socket] [-t token] command "
	    "[argument ...]\n"
	    "commands: status | show name | start name | stop name |\n"
	    "          restart name | scale name n|+n|-n | signal name sig |\n"
	    "          reload | check | logs [-f] [-n lines] name |\n"
	    "          metrics |"
	    " init [-f] [-o dir] preset | top | version\n",
	    getprogname());
	exit(2);
}

static size_t
ctl_write(char *ptr, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;
	char		*p;

	if ((p = realloc(r->r_body, r->r_len + size * n + 1)) == NULL)
		return (0);
	r->r_body = p;
	memcpy(r->r_body + r->r_len, ptr, size * n);
	r->r_len += size * n;
	r->r_body[r->r_len] = '\0';
	return (size * n);
}

static size_t
ctl_header(char *ptr, size_t size, size_t n, void *arg)
{
	struct reply	*r = arg;
	size_t		 len = size * n;

	if (len > 13 && strncasecmp(ptr, "Content-Type:", 13) == 0) {
		snprintf(r->r_type, sizeof(r->r_type), "%.*s", (int)(len - 13),
		    ptr + 13);
		r->r_type[strcspn(r->r_type, "\r\n")] = '\0';
	}
	return (len);
}

/*
 * Why the daemon cannot be reached, in the system's words where a
 * connect(2) of our own can tell: "No such file or directory" says
 * more than libcurl's "Couldn't connect to server".
 */
static const char *
ctl_unreachable(CURLcode rc, const char *ebuf)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	static char		 why[256];
	int			 fd, saved;

	if (rc != CURLE_COULDNT_CONNECT)
		return (ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, ctl_socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		return ("socket path too long");
	if (stat(ctl_socket, &st) == -1)
		return (strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return ("not a socket");
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return (strerror(errno));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		strlcpy(why, strerror(saved), sizeof(why));
		return (why);
	}
	close(fd);
	return (ebuf[0] != '\0' ? ebuf : curl_easy_strerror(rc));
}

/*
 * One request; exits 3 when the daemon cannot be reached.  Changes
 * wait as long as the daemon takes: a stop is answered after the
 * process's own stop timeout, which may be minutes.
 */
static void
ctl_request(const char *method, const char *path, const char *body,
    struct reply *r)
{
	struct curl_slist	*hdrs = NULL, *h;
	char			 url[1024], auth[512];
	char			 ebuf[CURL_ERROR_SIZE];
	CURL			*c;
	CURLcode		 rc;

	memset(r, 0, sizeof(*r));
	ebuf[0] = '\0';
	if ((c = curl_easy_init()) == NULL)
		errx(1, "cannot initialise libcurl");
	if ((size_t)snprintf(url, sizeof(url), "http://localhost%s", path) >=
	    sizeof(url))
		errx(2, "name too long");
	CTL_SETOPT(c, CURLOPT_UNIX_SOCKET_PATH, ctl_socket);
	CTL_SETOPT(c, CURLOPT_URL, url);
	CTL_SETOPT(c, CURLOPT_CUSTOMREQUEST, method);
	CTL_SETOPT(c, CURLOPT_WRITEFUNCTION, ctl_write);
	CTL_SETOPT(c, CURLOPT_WRITEDATA, r);
	CTL_SETOPT(c, CURLOPT_HEADERFUNCTION, ctl_header);
	CTL_SETOPT(c, CURLOPT_HEADERDATA, r);
	CTL_SETOPT(c, CURLOPT_ERRORBUFFER, ebuf);
	CTL_SETOPT(c, CURLOPT_NOSIGNAL, 1L);
	CTL_SETOPT(c, CURLOPT_CONNECTTIMEOUT, 5L);
	CTL_SETOPT(c, CURLOPT_TIMEOUT, strcmp(method, "GET") == 0 ? 30L : 0L);
	if (body != NULL) {
		CTL_SETOPT(c, CURLOPT_POSTFIELDS, body);
		if ((h = curl_slist_append(hdrs,
		    "Content-Type: application/json")) == NULL)
			errx(1, "out of memory");
		hdrs = h;
	}
	if (ctl_token != NULL) {
		if ((size_t)snprintf(auth, sizeof(auth),
		    "Authorization: Bearer %s", ctl_token) >= sizeof(auth))
			errx(2, "token too long");
		if ((h = curl_slist_append(hdrs, auth)) == NULL)
			errx(1, "out of memory");
		hdrs = h;
		explicit_bzero(auth, sizeof(auth));
	}
	if (hdrs != NULL)
		CTL_SETOPT(c, CURLOPT_HTTPHEADER, hdrs);
	if ((rc = curl_easy_perform(c)) != CURLE_OK) {
		fprintf(stderr, "%s: cannot reach phpeekd at %s: %s\n",
		    getprogname(), ctl_socket, ctl_unreachable(rc, ebuf));
		curl_slist_free_all(hdrs);
		curl_easy_cleanup(c);
		free(r->r_body);
		curl_global_cleanup();
		exit(3);
	}
	if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->r_status) !=
	    CURLE_OK)
		r->r_status = 0;
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
}

/* /api/v1/processes/NAME[/ACTION], the name percent-encoded. */
static void
ctl_proc_path(char *buf, size_t len, const char *name, const char *action)
{
	static const char	 hex[] = "0123456789ABCDEF";
	char			 enc[3 * 256 + 1];
	size_t			 i, o = 0;

	for (i = 0; name[i] != '\0' && o + 3 < sizeof(enc); i++) {
		unsigned char	ch = (unsigned char)name[i];

		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch) != NULL)
			enc[o++] = (char)ch;
		else {
			enc[o++] = '%';
			enc[o++] = hex[ch >> 4];
			enc[o++] = hex[ch & 15];
		}
	}
	enc[o] = '\0';
	if (name[i] != '\0' || (size_t)snprintf(buf, len,
	    "/api/v1/processes/%s%s%s", enc, action != NULL ? "/" : "",
	    action != NULL ? action : "") >= len)
		errx(2, "name too long");
}

/*
 * Check a reply: print the server's error and return 1 when it was
 * refused; with -j print the body as it came.
 */
static int
ctl_done(struct reply *r, struct json_object **out)
{
	struct json_object	*o = NULL, *e;

	if (r->r_body != NULL)
		o = json_tokener_parse(r->r_body);
	free(r->r_body);
	r->r_body = NULL;
	if (r->r_status >= 300) {
		if (o != NULL && json_object_object_get_ex(o, "error", &e))
			fprintf(stderr, "%s: %s\n", getprogname(),
			    json_object_get_string(e));
		else
			fprintf(stderr, "%s: HTTP %ld\n", getprogname(),
			    r->r_status);
		json_object_put(o);
		return (1);
	}
	if (o == NULL) {
		fprintf(stderr, "%s: unreadable answer from phpeekd\n",
		    getprogname());
		return (1);
	}
	if (out != NULL)
		*out = o;
	else
		json_object_put(o);
	return (0);
}

/* -j: the answer as it came; 1 when the daemon refused. */
static int
ctl_raw(struct reply *r)
{
	if (r->r_body != NULL)
		fputs(r->r_body, stdout);
	free(r->r_body);
	r->r_body = NULL;
	return (r->r_status >= 300);
}

static const char *
jstr(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return ("");
	return (json_object_get_string(v));
}

static long long
jint(struct json_object *o, const char *key)
{
	struct json_object	*v;

	if (!json_object_object_get_ex(o, key, &v) || v == NULL)
		return (0);
	return ((long long)json_object_get_int64(v));
}

static void
uptime(long long started, char *buf, size_t len)
{
	long long	s = started > 0 ? (long long)time(NULL) - started : 0;

	if (started <= 0)
		snprintf(buf, len, "-");
	else if (s < 3600)
		snprintf(buf, len, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%02lldh", s / 86400,
		    s % 86400 / 3600);
}

/* A process's automatic restarts: phpeekd's total, else the sum. */
static long long
proc_restarts(struct json_object *p)
{
	struct json_object	*insts, *v;
	long long		 n = 0;
	size_t			 j;

	if (json_object_object_get_ex(p, "restarts", &v) && v != NULL)
		return ((long long)json_object_get_int64(v));
	if (!json_object_object_get_ex(p, "instances", &insts))
		return (0);
	for (j = 0; j < json_object_array_length(insts); j++)
		n += jint(json_object_array_get_idx(insts, j),
		    "restart_count");
	return (n);
}

/* One instance line, under the process; w: the name column. */
static void
print_instance(struct json_object *in, int w)
{
	char	up[32], pid[24];

	uptime(strcmp(jstr(in, "state"), "running") == 0 ?
	    jint(in, "started_at") : 0, up, sizeof(up));
	if (jint(in, "pid") > 0)
		snprintf(pid, sizeof(pid), "%lld", jint(in, "pid"));
	else
		strlcpy(pid, "-", sizeof(pid));
	printf("  %-*s %-10s %-8s %s\n", w - 2, jstr(in, "id"),
	    jstr(in, "state"), pid, up);
}

static int
cmd_status(void)
{
	struct json_object	*o, *procs, *p, *insts;
	struct reply		 r;
	size_t			 i, j, n;
	int			 w = 6;
	char			 scale[32];

	ctl_request("GET", "/api/v1/processes", NULL, &r);
	if (ctl_json)
		return (ctl_raw(&r));
	if (ctl_done(&r, &o) != 0)
		return (1);
	if (!json_object_object_get_ex(o, "processes", &procs) ||
	    !json_object_is_type(procs, json_type_array)) {
		fprintf(stderr, "%s: unreadable answer from phpeekd\n",
		    getprogname());
		json_object_put(o);
		return (1);
	}
	n = json_object_array_length(procs);
	/* the widest name, or instance id under it, sets the column */
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(procs, i);
		if ((int)strlen(jstr(p, "name")) + 8 > w)
			w = (int)strlen(jstr(p, "name")) + 8;
	}
	printf("%-*s %-8s %-10s %-7s %s\n", w, "NAME", "TYPE", "STATE",
	    "SCALE", "RESTARTS");
	printf("  %-*s %-10s %-8s %s\n", w - 2, "ID", "STATE", "PID",
	    "UPTIME");
	for (i = 0; i < n; i++) {
		p = json_object_array_get_idx(procs, i);
		snprintf(scale, sizeof(scale), "%lld/%lld", jint(p, "scale"),
		    jint(p, "desired_scale"));
		printf("%-*s %-8s %-10s %-7s %lld\n", w, jstr(p, "name"),
		    jstr(p, "type"), jstr(p, "state"), scale,
		    proc_restarts(p));
		if (!json_object_object_get_ex(p, "instances", &insts))
			continue;
		for (j = 0; j < json_object_array_length(insts); j++)
			print_instance(json_object_array_get_idx(insts, j), w);
	}
	json_object_put(o);
	free(r.r_body);
	return (0);
}

/* argv as a shell would need it typed: quoted where it must be. */
static void
print_argv(struct json_object *a)
{
	const char	*s, *q;
	size_t		 i;

	for (i = 0; a != NULL && i < json_object_array_length(a); i++) {
		s = json_object_get_string(json_object_array_get_idx(a, i));
		if (s == NULL)
			s = "";
		printf("%s", i > 0 ? " " : "");
		if (*s != '\0' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=,+@%") ==
		    strlen(s)) {
			printf("%s", s);
			continue;
		}
		putchar('\'');
		for (q = s; *q != '\0'; q++)
			if (*q == '\'')
				printf("'\\''");
			else
				putchar(*q);
		putchar('\'');
	}
	putchar('\n');
}

static void
print_field(const char *key, struct json_object *v)
{
	printf("%-13s %s\n", key, v == NULL ||
	    json_object_is_type(v, json_type_null) ? "-" :
	    json_object_get_string(v));
}

static void
print_list(const char *key, struct json_object *a)
{
	size_t	i, n = a != NULL && json_object_is_type(a, json_type_array) ?
		    json_object_array_length(a) : 0;

	printf("%-13s ", key);
	for (i = 0; i < n; i++)
		printf("%s%s", i > 0 ? ", " : "", json_object_get_string(
		    json_object_array_get_idx(a, i)));
	printf("%s\n", n == 0 ? "-" : "");
}

/* show: the configuration and instances of one process, for people. */
static int
cmd_show(const char *name)
{
	struct json_object	*o, *cf = NULL, *info = NULL, *v, *hc;
	struct json_object	*insts = NULL, *in;
	struct reply		 r;
	char			 path[512], buf[64];
	size_t			 j;
	int			 first, w;

	ctl_proc_path(path, sizeof(path), name, NULL);
	ctl_request("GET", path, NULL, &r);
	if (ctl_json)
		return (ctl_raw(&r));
	if (ctl_done(&r, &o) != 0)
		return (1);
	json_object_object_get_ex(o, "config", &cf);
	json_object_object_get_ex(o, "info", &info);
	printf("%-13s %s\n", "name", jstr(o, "process"));
	printf("%-13s %s\n", "type", jstr(cf, "type"));
	if (info != NULL) {
		printf("%-13s %s\n", "state", jstr(info, "state"));
		printf("%-13s %lld running, %lld wanted\n", "scale",
		    jint(info, "scale"), jint(info, "desired_scale"));
		printf("%-13s %lld\n", "restarts", proc_restarts(info));
	}
	json_object_object_get_ex(cf, "enabled", &v);
	print_field("enabled", v);
	json_object_object_get_ex(cf, "command", &v);
	printf("%-13s ", "command");
	print_argv(v);
	json_object_object_get_ex(cf, "working_dir", &v);
	print_field("working_dir", v);
	json_object_object_get_ex(cf, "user", &v);
	print_field("user", v);
	json_object_object_get_ex(cf, "group", &v);
	print_field("group", v);
	json_object_object_get_ex(cf, "restart", &v);
	print_field("restart", v);
	json_object_object_get_ex(cf, "depends_on", &v);
	print_list("depends_on", v);
	if (json_object_object_get_ex(cf, "shutdown", &v) && v != NULL)
		printf("%-13s %s, then SIGKILL after %llds\n", "shutdown",
		    jstr(v, "signal"), jint(v, "timeout"));
	if (json_object_object_get_ex(cf, "health_check", &hc) && hc != NULL) {
		printf("%-13s %s", "health_check", jstr(hc, "type"));
		if (*jstr(hc, "url") != '\0')
			printf(" %s", jstr(hc, "url"));
		else if (*jstr(hc, "address") != '\0')
			printf(" %s", jstr(hc, "address"));
		printf(" every %llds, %s\n", jint(hc, "period"),
		    jstr(hc, "mode"));
	}
	if (json_object_object_get_ex(cf, "schedule", &v) && v != NULL)
		print_field("schedule", v);
	first = 1;
	if (json_object_object_get_ex(cf, "env", &v) && v != NULL &&
	    json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, ev) {
			printf("%-13s %s=%s\n", first ? "env" : "", k,
			    json_object_get_string(ev));
			first = 0;
		}
	}
	if (info != NULL &&
	    json_object_object_get_ex(info, "instances", &insts) &&
	    json_object_array_length(insts) > 0) {
		w = (int)strlen(jstr(o, "process")) + 8;
		printf("\n  %-*s %-10s %-8s %-9s %-8s %s\n", w - 2, "ID",
		    "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT");
		for (j = 0; j < json_object_array_length(insts); j++) {
			in = json_object_array_get_idx(insts, j);
			uptime(strcmp(jstr(in, "state"), "running") == 0 ?
			    jint(in, "started_at") : 0, buf, sizeof(buf));
			printf("  %-*s %-10s %-8lld %-9s %-8lld ", w - 2,
			    jstr(in, "id"), jstr(in, "state"),
			    jint(in, "pid"), buf, jint(in, "restart_count"));
			if (json_object_object_get_ex(in, "last_exit_code",
			    &v) && v != NULL)
				printf("%s\n", json_object_get_string(v));
			else
				printf("-\n");
		}
	}
	json_object_put(o);
	free(r.r_body);
	return (0);
}

static int
cmd_action(const char *name, const char *action, const char *body)
{
	struct json_object	*o;
	struct reply		 r;
	char			 path[512];

	ctl_proc_path(path, sizeof(path), name, action);
	ctl_request("POST", path, body, &r);
	if (ctl_json)
		return (ctl_raw(&r));
	if (ctl_done(&r, &o) != 0)
		return (1);
	printf("%s: %s\n", name, jstr(o, "status"));
	json_object_put(o);
	return (0);
}

static int
cmd_reload(void)
{
	struct json_object	*o;
	struct reply		 r;

	ctl_request("POST", "/api/v1/config/reload", NULL, &r);
	if (ctl_json)
		return (ctl_raw(&r));
	if (ctl_done(&r, &o) != 0)
		return (1);
	printf("%s\n", jstr(o, "message"));
	json_object_put(o);
	return (0);
}

static int
cmd_check(void)
{
	struct json_object	*o = NULL, *procs, *b;
	struct reply		 r;
	int			 ok;

	ctl_request("GET", "/readyz", NULL, &r);
	if (ctl_json)
		return (ctl_raw(&r) || r.r_status != 200);
	if (r.r_body != NULL)
		o = json_tokener_parse(r.r_body);
	free(r.r_body);
	if (o == NULL) {
		fprintf(stderr, "%s: unreadable answer\n", getprogname());
		return (1);
	}
	printf("%s\n", jstr(o, "status"));
	if (json_object_object_get_ex(o, "processes", &procs) &&
	    json_object_is_type(procs, json_type_object)) {
		json_object_object_foreach(procs, k, v) {
			ok = json_object_object_get_ex(v, "ok", &b) &&
			    json_object_get_boolean(b);
			printf("  %-20s %-9s %-10s %lld/%lld ready\n", k,
			    ok ? "ok" : "NOT READY", jstr(v, "state"),
			    jint(v, "ready"), jint(v, "desired"));
		}
	}
	json_object_put(o);
	return (r.r_status == 200 ? 0 : 1);
}

static int
cmd_metrics(void)
{
	struct reply	r;

	ctl_request("GET", "/metrics", NULL, &r);
	if (r.r_status != 200)
		return (ctl_done(&r, NULL));
	return (ctl_raw(&r));
}

static void
print_log(struct json_object *e)
{
	printf("%s %s %s %s\n", jstr(e, "Timestamp"), jstr(e, "InstanceID"),
	    jstr(e, "Stream"), jstr(e, "Message"));
}

/*
 * The last n lines, oldest first; -f then keeps asking for what came
 * after the newest line seen.
 */
static int
cmd_logs(const char *name, int lines, int follow)
{
	struct json_object	*o, *logs;
	struct reply		 r;
	char			 path[512], last[128] = "";
	size_t			 i, n, start;

	for (;;) {
		ctl_proc_path(path, sizeof(path) - 16, name, "logs");
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "?limit=%d", follow && last[0] != '\0' ? 1000 : lines);
		ctl_request("GET", path, NULL, &r);
		if (ctl_json && !follow)
			return (ctl_raw(&r));
		if (ctl_done(&r, &o) != 0)
			return (1);
		json_object_object_get_ex(o, "logs", &logs);
		n = json_object_array_length(logs);
		/* newest first from the daemon: find what is new */
		start = n;
		if (last[0] != '\0') {
			for (i = 0; i < n; i++) {
				struct json_object *e =
				    json_object_array_get_idx(logs, i);
				char key[128];

				snprintf(key, sizeof(key), "%s %s",
				    jstr(e, "Timestamp"), jstr(e, "Message"));
				if (strcmp(key, last) == 0)
					break;
			}
			start = i;
		}
		for (i = start; i > 0; i--)
			print_log(json_object_array_get_idx(logs, i - 1));
		if (n > 0) {
			struct json_object *e = json_object_array_get_idx(logs,
			    0);

			snprintf(last, sizeof(last), "%s %s",
			    jstr(e, "Timestamp"), jstr(e, "Message"));
		}
		fflush(stdout);
		json_object_put(o);
		free(r.r_body);
		if (!follow)
			return (0);
		usleep(500000);
	}
}

/*
 * Write a preset as DIR/phpeek-pm.yaml, as phpeek-pm's scaffold does;
 * an existing file is kept unless -f.
 */
static int
cmd_init(const char *preset, const char *dir, int force)
{
	const char	*share, *dirs[3];
	char		 src[1024], dst[1024], buf[8192];
	FILE		*in = NULL, *out;
	size_t		 i, n;

	if (strspn(preset, "abcdefghijklmnopqrstuvwxyz-") != strlen(preset))
		usage();
	dirs[0] = getenv("PHPEEKD_SHARE");
	dirs[1] = PHPEEKD_SHAREDIR;
	dirs[2] = "share";		/* the source tree */
	for (i = 0; i < 3 && in == NULL; i++) {
		if ((share = dirs[i]) == NULL)
			continue;
		snprintf(src, sizeof(src), "%s/examples/%s.yaml", share, preset);
		in = fopen(src, "r");
	}
	if (in == NULL) {
		fprintf(stderr, "%s: no preset %s (minimal, laravel, symfony, "
		    "generic, production)\n", getprogname(), preset);
		return (1);
	}
	snprintf(dst, sizeof(dst), "%s/phpeek-pm.yaml", dir);
	if (!force && access(dst, F_OK) == 0) {
		fprintf(stderr, "%s: %s exists; -f replaces it\n",
		    getprogname(), dst);
		fclose(in);
		return (1);
	}
	if ((out = fopen(dst, "w")) == NULL) {
		fprintf(stderr, "%s: %s: %s\n", getprogname(), dst,
		    strerror(errno));
		fclose(in);
		return (1);
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			break;
	n = ferror(in);
	fclose(in);
	if (fclose(out) != 0 || n != 0) {
		fprintf(stderr, "%s: writing %s failed\n", getprogname(), dst);
		return (1);
	}
	printf("wrote %s from the %s preset\n", dst, preset);
	return (0);
}

/*
 * top: a live view of processes and instances, redrawn in place once a
 * second (cursor home and line clears, no full-screen clear, so it does
 * not flicker), with keys to act on the selected process.
 */
static struct termios	top_saved;
static int		top_raw;

static void
top_restore(void)
{
	if (top_raw)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &top_saved);
	/* cursor back, below the view */
	printf("\033[?25h\n");
	fflush(stdout);
}

static void
top_draw(struct json_object *procs, int sel, const char *msg)
{
	struct json_object	*p, *insts, *in;
	size_t			 i, j;
	long long		 restarts;
	char			 up[32];

	printf("\033[H\033[?25l");
	printf("phpeekd top  %s   keys: j/k move  r restart  s stop  S start"
	    "  +/- scale  q quit\033[K\n", ctl_socket);
	printf("%-22s %-8s %-10s %-7s %-8s %s\033[K\n", "NAME", "TYPE",
	    "STATE", "SCALE", "RESTARTS", "CPU%  RSS");
	for (i = 0; procs != NULL && i < json_object_array_length(procs);
	    i++) {
		p = json_object_array_get_idx(procs, i);
		json_object_object_get_ex(p, "instances", &insts);
		restarts = 0;
		for (j = 0; j < json_object_array_length(insts); j++)
			restarts += jint(json_object_array_get_idx(insts, j),
			    "restart_count");
		printf("%s%-22s %-8s %-10s %3lld/%-3lld %-8lld %5.1f %lldK"
		    "\033[0m\033[K\n", (int)i == sel ? "\033[7m" : "",
		    jstr(p, "name"), jstr(p, "type"), jstr(p, "state"),
		    jint(p, "scale"), jint(p, "desired_scale"), restarts,
		    json_object_get_double(json_object_object_get(p,
		    "cpu_percent")), jint(p, "memory_rss_bytes") / 1024);
		for (j = 0; j < json_object_array_length(insts); j++) {
			in = json_object_array_get_idx(insts, j);
			uptime(strcmp(jstr(in, "state"), "running") == 0 ?
			    jint(in, "started_at") : 0, up, sizeof(up));
			printf("  %-20s %-10s pid %-7lld up %-9s %5.1f %lldK"
			    "\033[K\n", jstr(in, "id"), jstr(in, "state"),
			    jint(in, "pid"), up, json_object_get_double(
			    json_object_object_get(in, "cpu_percent")),
			    jint(in, "memory_rss_bytes") / 1024);
		}
	}
	printf("%s\033[K\n\033[J", msg);
	fflush(stdout);
}

/* Run an action quietly and say how it went on the status line. */
static void
top_act(const char *name, const char *action, const char *body, char *msg,
    size_t len)
{
	struct json_object	*o = NULL, *e;
	struct reply		 r;
	char			 path[512];

	ctl_proc_path(path, sizeof(path), name, action);
	ctl_request("POST", path, body, &r);
	if (r.r_body != NULL)
		o = json_tokener_parse(r.r_body);
	if (r.r_status >= 300 && o != NULL &&
	    json_object_object_get_ex(o, "error", &e))
		snprintf(msg, len, "%s %s: %s", action, name,
		    json_object_get_string(e));
	else
		snprintf(msg, len, "%s %s: %s", action, name,
		    r.r_status < 300 ? "done" : "failed");
	json_object_put(o);
	free(r.r_body);
}

static int
cmd_top(void)
{
	struct json_object	*o = NULL, *procs = NULL, *p;
	struct termios		 raw;
	struct pollfd		 pfd;
	struct reply		 r;
	char			 msg[256] = "", key, body[32];
	int			 sel = 0, n = 0;

	if (tcgetattr(STDIN_FILENO, &top_saved) == 0) {
		raw = top_saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0)
			top_raw = 1;
	}
	atexit(top_restore);
	printf("\033[2J");
	for (;;) {
		ctl_request("GET", "/api/v1/processes", NULL, &r);
		json_object_put(o);
		o = r.r_body != NULL ? json_tokener_parse(r.r_body) : NULL;
		free(r.r_body);
		procs = NULL;
		if (o != NULL)
			json_object_object_get_ex(o, "processes", &procs);
		n = procs != NULL ? (int)json_object_array_length(procs) : 0;
		if (sel >= n)
			sel = n > 0 ? n - 1 : 0;
		top_draw(procs, sel, msg);
		pfd.fd = STDIN_FILENO;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if (read(STDIN_FILENO, &key, 1) != 1)
			break;
		if (key == 'q')
			break;
		if (key == 'j' || key == 'B')	/* B: the end of down arrow */
			sel = sel + 1 < n ? sel + 1 : sel;
		else if (key == 'k' || key == 'A')
			sel = sel > 0 ? sel - 1 : 0;
		if (n == 0 || (p = json_object_array_get_idx(procs, sel)) ==
		    NULL)
			continue;
		switch (key) {
		case 'r':
			top_act(jstr(p, "name"), "restart", NULL, msg,
			    sizeof(msg));
			break;
		case 's':
			top_act(jstr(p, "name"), "stop", NULL, msg, sizeof(msg));
			break;
		case 'S':
			top_act(jstr(p, "name"), "start", NULL, msg,
			    sizeof(msg));
			break;
		case '+':
		case '-':
			snprintf(body, sizeof(body), "{\"delta\":%s1}",
			    key == '+' ? "" : "-");
			top_act(jstr(p, "name"), "scale", body, msg,
			    sizeof(msg));
			break;
		}
	}
	json_object_put(o);
	return (0);
}

int
main(int argc, char *argv[])
{
	const char	*env, *errstr;
	char		 body[64];
	int		 ch, lines = 100, follow = 0, sig;

	if ((env = getenv("PHPEEKD_SOCKET")) != NULL && *env != '\0')
		ctl_socket = env;
	if ((env = getenv("PHPEEKD_TOKEN")) != NULL && *env != '\0')
		ctl_token = env;
	while ((ch = getopt(argc, argv, "+js:t:")) != -1) {
		switch (ch) {
		case 'j':
			ctl_json = 1;
			break;
		case 's':
			ctl_socket = optarg;
			break;
		case 't':
			ctl_token = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		errx(3, "curl_global_init");

	if (strcmp(argv[0], "version") == 0 && argc == 1) {
		printf("phpeekctl %s\n", PHPEEKCTL_VERSION);
		return (0);
	}
	if (strcmp(argv[0], "status") == 0 && argc == 1)
		return (cmd_status());
	if (strcmp(argv[0], "show") == 0 && argc == 2)
		return (cmd_show(argv[1]));
	if ((strcmp(argv[0], "start") == 0 || strcmp(argv[0], "stop") == 0 ||
	    strcmp(argv[0], "restart") == 0) && argc == 2)
		return (cmd_action(argv[1], argv[0], NULL));
	if (strcmp(argv[0], "scale") == 0 && argc == 3) {
		(void)strtonum(argv[2] + (argv[2][0] == '+' ||
		    argv[2][0] == '-'), 0, 1000, &errstr);
		if (errstr != NULL)
			usage();
		if (argv[2][0] == '+' || argv[2][0] == '-')
			snprintf(body, sizeof(body), "{\"delta\":%s}",
			    argv[2][0] == '+' ? argv[2] + 1 : argv[2]);
		else
			snprintf(body, sizeof(body), "{\"desired\":%s}",
			    argv[2]);
		return (cmd_action(argv[1], "scale", body));
	}
	if (strcmp(argv[0], "signal") == 0 && argc == 3) {
		sig = (int)strtonum(argv[2], 1, NSIG - 1, &errstr);
		if (errstr == NULL)
			snprintf(body, sizeof(body), "{\"signal\":%d}", sig);
		else {
			if (strlen(argv[2]) > 16 ||
			    strspn(argv[2], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789+-") !=
			    strlen(argv[2]))
				usage();
			snprintf(body, sizeof(body), "{\"signal\":\"%s\"}",
			    argv[2]);
		}
		return (cmd_action(argv[1], "signal", body));
	}
	if (strcmp(argv[0], "reload") == 0 && argc == 1)
		return (cmd_reload());
	if (strcmp(argv[0], "check") == 0 && argc == 1)
		return (cmd_check());
	if (strcmp(argv[0], "metrics") == 0 && argc == 1)
		return (cmd_metrics());
	if (strcmp(argv[0], "top") == 0 && argc == 1)
		return (cmd_top());
	if (strcmp(argv[0], "init") == 0) {
		const char	*dir = ".";
		int		 force = 0;

		optind = 1;
		while ((ch = getopt(argc, argv, "fo:")) != -1) {
			switch (ch) {
			case 'f':
				force = 1;
				break;
			case 'o':
				dir = optarg;
				break;
			default:
				usage();
			}
		}
		if (optind != argc - 1)
			usage();
		return (cmd_init(argv[optind], dir, force));
	}
	if (strcmp(argv[0], "logs") == 0) {
		optind = 1;
		while ((ch = getopt(argc, argv, "fn:")) != -1) {
			switch (ch) {
			case 'f':
				follow = 1;
				break;
			case 'n':
				lines = (int)strtonum(optarg, 1, 1000,
				    &errstr);
				if (errstr != NULL)
					usage();
				break;
			default:
				usage();
			}
		}
		if (optind != argc - 1)
			usage();
		return (cmd_logs(argv[optind], lines, follow));
	}
	usage();
}
