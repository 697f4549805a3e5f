/*
 * The daemon's own log: one line per record on stderr, text or JSON.
 */

#ifndef PHPEEKD_LOG_H
#define PHPEEKD_LOG_H

#include <stdarg.h>

#define LOG_FMT_TEXT	0
#define LOG_FMT_JSON	1

#define LOG_LVL_ERROR	0
#define LOG_LVL_WARN	1
#define LOG_LVL_INFO	2
#define LOG_LVL_DEBUG	3

void	log_init(int, int);
void	log_procinit(const char *);
void	log_setverbose(int);
int	log_getverbose(void);
void	log_setformat(int);
int	log_getformat(void);
void	logit(int, const char *, ...)
	    __attribute__((__format__(printf, 2, 3)));
void	vlog(int, const char *, va_list)
	    __attribute__((__format__(printf, 2, 0)));
void	log_warn(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	log_debug(const char *, ...)
	    __attribute__((__format__(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((__format__(printf, 1, 2), __noreturn__));
void	fatalx(const char *, ...)
	    __attribute__((__format__(printf, 1, 2), __noreturn__));
size_t	log_timestamp(char *, size_t);
size_t	json_escape(char *, size_t, const char *);

#endif /* PHPEEKD_LOG_H */
