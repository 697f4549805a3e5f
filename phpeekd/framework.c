/*
 * The application phpeekd runs: Laravel, Symfony, WordPress or plain
 * PHP, told from the files in WORKDIR (default /var/www/html), and the
 * directories each needs writable by the PHP-FPM user, made and handed
 * to it before anything starts.  The parent does this as root, once.
 *
 * phpeek-pm hands them to uid 82, Alpine's www-data; on Debian that is
 * uid 33, so phpeekd looks www-data up and uses 82 only without one.
 * Nothing is done on a read-only root, and no error stops the start.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phpeekd.h"

#define FW_UID_ALPINE	82

struct fw_rule {
	const char	*fr_name;
	const char	*fr_mkdir[6];	/* made 0775, NULL-ended */
	const char	*fr_chown[3];	/* handed over with what is in them */
};

static const struct fw_rule fw_rules[] = {
	{ "laravel", { "storage/framework/sessions",
	    "storage/framework/views", "storage/framework/cache",
	    "storage/logs", "bootstrap/cache", NULL },
	    { "storage", "bootstrap/cache", NULL } },
	{ "symfony", { "var/cache", "var/log", NULL }, { "var", NULL } },
	{ "wordpress", { "wp-content/uploads", NULL },
	    { "wp-content", NULL } },
	{ "generic", { NULL }, { NULL } },
};

static uid_t	fw_uid;
static gid_t	fw_gid;

static int	fw_isfile(const char *, const char *);
static int	fw_isdir(const char *, const char *);
static int	fw_readonly(void);
static int	fw_mkdirs(const char *, const char *);
static int	fw_chown_one(const char *, const struct stat *, int,
		    struct FTW *);

static int
fw_isfile(const char *dir, const char *name)
{
	struct stat	st;
	char		path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return (0);
	return (stat(path, &st) == 0 && S_ISREG(st.st_mode));
}

static int
fw_isdir(const char *dir, const char *name)
{
	struct stat	st;
	char		path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return (0);
	return (stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

/* phpeek-pm's order: the first rule that matches wins. */
const char *
framework_detect(const char *dir)
{
	if (fw_isfile(dir, "artisan"))
		return ("laravel");
	if (fw_isfile(dir, "bin/console") && fw_isdir(dir, "var/cache"))
		return ("symfony");
	if (fw_isfile(dir, "wp-config.php"))
		return ("wordpress");
	return ("generic");
}

/* As phpeek-pm decides it: the variable, or a file that cannot be made. */
static int
fw_readonly(void)
{
	const char	*v = getenv("PHPEEK_PM_READ_ONLY_ROOT");
	const char	*probe = "/tmp/.phpeek-pm-write-test";
	int		 fd;

	if (v != NULL && strcmp(v, "true") == 0)
		return (1);
	if ((fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return (1);
	close(fd);
	(void)unlink(probe);
	return (0);
}

/* mkdir -p, and the directory itself 0775 whatever the umask. */
static int
fw_mkdirs(const char *dir, const char *rel)
{
	char	path[PATH_MAX], *p;

	if (snprintf(path, sizeof(path), "%s/%s", dir, rel) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(path, 0775) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(path, 0775) == -1 && errno != EEXIST)
		return (-1);
	return (chmod(path, 0775));
}

/* Links are handed over, not followed. */
static int
fw_chown_one(const char *path, const struct stat *st, int type,
    struct FTW *ftw)
{
	if (lchown(path, fw_uid, fw_gid) == -1 && errno != EPERM)
		log_warn("framework: chown %s", path);
	return (0);
}

/*
 * Detect, then make and hand over what the framework writes to.  The
 * framework's name, or NULL when WORKDIR is not there.
 */
const char *
framework_setup(void)
{
	const struct fw_rule	*fr;
	struct passwd		*pw;
	const char		*dir, *name;
	char			 path[PATH_MAX];
	int			 i;

	if ((dir = getenv("WORKDIR")) == NULL || *dir == '\0')
		dir = "/var/www/html";
	if (!fw_isdir(dir, "."))
		return (NULL);
	name = framework_detect(dir);
	for (fr = fw_rules; strcmp(fr->fr_name, name) != 0; fr++)
		;
	log_info("framework: %s in %s", name, dir);
	if (fr->fr_mkdir[0] == NULL)
		return (name);
	if (fw_readonly()) {
		log_info("framework: read-only root, directories left as "
		    "they are");
		return (name);
	}
	if ((pw = getpwnam("www-data")) != NULL) {
		fw_uid = pw->pw_uid;
		fw_gid = pw->pw_gid;
	} else
		fw_uid = fw_gid = FW_UID_ALPINE;
	for (i = 0; fr->fr_mkdir[i] != NULL; i++)
		if (fw_mkdirs(dir, fr->fr_mkdir[i]) == -1)
			log_warn("framework: mkdir %s/%s", dir,
			    fr->fr_mkdir[i]);
	/* only root may give files away; anyone else leaves them be */
	if (geteuid() != 0)
		return (name);
	for (i = 0; fr->fr_chown[i] != NULL; i++) {
		if (snprintf(path, sizeof(path), "%s/%s", dir,
		    fr->fr_chown[i]) >= (int)sizeof(path))
			continue;
		if (nftw(path, fw_chown_one, 16, FTW_PHYS) == -1 &&
		    errno != ENOENT)
			log_warn("framework: chown %s", path);
	}
	return (name);
}
