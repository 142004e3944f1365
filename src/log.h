/*
 * Logging to stderr, one line per event: "LEVEL: message", preceded by
 * the syslog priority ("<6>info: ...") when stderr is the journal.
 * Thread-safe: each line is formatted into a buffer and written with one
 * write(2).  log_warn() appends strerror(errno) and keeps errno intact.
 */
#ifndef WSGATE_LOG_H
#define WSGATE_LOG_H

#include <stdarg.h>
#include <stddef.h>

#define LOG_LVL_ERROR	0
#define LOG_LVL_WARNING	1
#define LOG_LVL_INFO	2
#define LOG_LVL_DEBUG	3

/*
 * Look at JOURNAL_STREAM (once, at start-up, before any thread): if stderr
 * is systemd's journal stream, lines get "<N>" priority prefixes.
 */
void	log_init(void);
int	log_journald(void);	/* 1 if the prefixes are on */
void	log_setlevel(int);	/* LOG_LVL_*: lines above it are dropped */
int	log_getlevel(void);
int	log_level_from_name(const char *);	/* -1 if unknown */

void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * Copy src[0..len) into dst (size > 0) as printable ASCII: other bytes as
 * \xHH, truncated with "..." to fit; always NUL-terminated.  For peer
 * bytes that end up in a log line.
 */
void	log_printable(char *dst, size_t size, const void *src, size_t len);

#endif /* WSGATE_LOG_H */
