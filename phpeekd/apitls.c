/*
 * TLS for the TCP API and the metrics port (api_tls, metrics_tls).
 * The api role runs chrooted and cannot open files: the parent opens
 * the certificate, key and CA files and passes them, and the context is
 * built here from their bytes.  OpenSSL is initialised before the
 * sandbox, so nothing it loads lazily needs a system call the api's
 * filter refuses.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "phpeekd.h"

/*
 * libevent's glue to OpenSSL, and OpenSSL with it, is opened by
 * apitls_init(), in the api only (dl.c): every call below goes through
 * these pointers.
 */
#define SSL_SYMS(X, s) \
	X(s, BIO_free) \
	X(s, BIO_new_mem_buf) \
	X(s, ERR_clear_error) \
	X(s, ERR_error_string_n) \
	X(s, ERR_get_error) \
	X(s, EVP_PKEY_free) \
	X(s, OPENSSL_init_ssl) \
	X(s, PEM_read_bio_PrivateKey) \
	X(s, PEM_read_bio_X509) \
	X(s, SSL_CTX_check_private_key) \
	X(s, SSL_CTX_ctrl) \
	X(s, SSL_CTX_free) \
	X(s, SSL_CTX_get_cert_store) \
	X(s, SSL_CTX_new) \
	X(s, SSL_CTX_set_options) \
	X(s, SSL_CTX_set_verify) \
	X(s, SSL_CTX_use_PrivateKey) \
	X(s, SSL_CTX_use_certificate) \
	X(s, SSL_new) \
	X(s, TLS_server_method) \
	X(s, X509_STORE_add_cert) \
	X(s, X509_free) \
	X(s, bufferevent_openssl_socket_new)
DL_TABLE(dl_ssl, SSL_SYMS);

#define BIO_free	(*dl_ssl.BIO_free)
#define BIO_new_mem_buf	(*dl_ssl.BIO_new_mem_buf)
#define ERR_clear_error	(*dl_ssl.ERR_clear_error)
#define ERR_error_string_n	(*dl_ssl.ERR_error_string_n)
#define ERR_get_error	(*dl_ssl.ERR_get_error)
#define EVP_PKEY_free	(*dl_ssl.EVP_PKEY_free)
#define OPENSSL_init_ssl	(*dl_ssl.OPENSSL_init_ssl)
#define PEM_read_bio_PrivateKey	(*dl_ssl.PEM_read_bio_PrivateKey)
#define PEM_read_bio_X509	(*dl_ssl.PEM_read_bio_X509)
#define SSL_CTX_check_private_key	(*dl_ssl.SSL_CTX_check_private_key)
#define SSL_CTX_ctrl	(*dl_ssl.SSL_CTX_ctrl)
#define SSL_CTX_free	(*dl_ssl.SSL_CTX_free)
#define SSL_CTX_get_cert_store	(*dl_ssl.SSL_CTX_get_cert_store)
#define SSL_CTX_new	(*dl_ssl.SSL_CTX_new)
#define SSL_CTX_set_options	(*dl_ssl.SSL_CTX_set_options)
#define SSL_CTX_set_verify	(*dl_ssl.SSL_CTX_set_verify)
#define SSL_CTX_use_PrivateKey	(*dl_ssl.SSL_CTX_use_PrivateKey)
#define SSL_CTX_use_certificate	(*dl_ssl.SSL_CTX_use_certificate)
#define SSL_new	(*dl_ssl.SSL_new)
#define TLS_server_method	(*dl_ssl.TLS_server_method)
#define X509_STORE_add_cert	(*dl_ssl.X509_STORE_add_cert)
#define X509_free	(*dl_ssl.X509_free)
#define bufferevent_openssl_socket_new	(*dl_ssl.bufferevent_openssl_socket_new)

/* Files received for a listener kind, until its socket comes. */
struct tls_pending {
	char	*tp_pem[TLS_NFILES];
	size_t	 tp_len[TLS_NFILES];
};

static struct tls_pending	apitls_pending[LISTEN_METRICS + 1];

static void	apitls_error(const char *, const char *);
static int	apitls_load(SSL_CTX *, struct tls_pending *, int);
static int	apitls_any_cert(int, X509_STORE_CTX *);

/* OpenSSL's own reason for the last failure, logged with ours. */
static void
apitls_error(const char *what, const char *listener)
{
	unsigned long	e = ERR_get_error();
	char		buf[256];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		strlcpy(buf, "unknown error", sizeof(buf));
	ERR_clear_error();
	log_warnx("%s: %s: %s", listener, what, buf);
}

void
apitls_init(void)
{
	SSL_CTX	*ctx;

	/* no TLS listener: OpenSSL is not even mapped */
	if ((dl_wanted & DL_TLS) == 0)
		return;
	/* OpenSSL's symbols too: dlsym searches what a library pulls in */
	DL_LOAD(EVSSL_SONAME, dl_ssl);
	if (OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS |
	    OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1)
		fatalx("OpenSSL initialisation failed");
	/* fetch the server methods and ciphers now, outside the sandbox */
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		fatalx("SSL_CTX_new failed");
	SSL_CTX_free(ctx);
}

/* A file from the parent: read it whole, bounded, and keep its bytes. */
int
apitls_file(int kind, int which, int fd)
{
	struct tls_pending	*tp;
	struct stat		 st;
	ssize_t			 n;
	size_t			 len = 0;
	char			*buf;

	if (kind < LISTEN_API || kind > LISTEN_METRICS || which < 0 ||
	    which >= TLS_NFILES) {
		close(fd);
		return (-1);
	}
	tp = &apitls_pending[kind];
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > TLS_FILE_MAX) {
		log_warnx("TLS file %d of listener %d: not a regular file of "
		    "at most %d bytes", which, kind, TLS_FILE_MAX);
		close(fd);
		return (0);
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		fatal("%s", __func__);
	while (len < (size_t)st.st_size &&
	    (n = read(fd, buf + len, (size_t)st.st_size - len)) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	freezero(tp->tp_pem[which], tp->tp_len[which]);
	tp->tp_pem[which] = buf;
	tp->tp_len[which] = len;
	return (0);
}

/* "require": a certificate must come, and is not checked (phpeek-pm). */
static int
apitls_any_cert(int ok, X509_STORE_CTX *x)
{
	return (1);
}

static int
apitls_load(SSL_CTX *ctx, struct tls_pending *tp, int client_auth)
{
	X509_STORE	*store;
	X509		*x;
	EVP_PKEY	*key;
	BIO		*b;
	int		 first = 1, n = 0;

	if (tp->tp_pem[TLS_CERT] == NULL || tp->tp_pem[TLS_KEY] == NULL)
		return (-1);
	/* the certificate, then its chain */
	if ((b = BIO_new_mem_buf(tp->tp_pem[TLS_CERT],
	    (int)tp->tp_len[TLS_CERT])) == NULL)
		return (-1);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (first ? SSL_CTX_use_certificate(ctx, x) != 1 :
		    SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			BIO_free(b);
			return (-1);
		}
		if (first)
			X509_free(x);
		first = 0;
	}
	BIO_free(b);
	ERR_clear_error();	/* the end of the file reads as an error */
	if (first)
		return (-1);
	if ((b = BIO_new_mem_buf(tp->tp_pem[TLS_KEY],
	    (int)tp->tp_len[TLS_KEY])) == NULL)
		return (-1);
	key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	if (key == NULL || SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		EVP_PKEY_free(key);
		return (-1);
	}
	EVP_PKEY_free(key);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return (-1);
	switch (client_auth) {
	case 1:		/* request */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, apitls_any_cert);
		break;
	case 2:		/* require */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, apitls_any_cert);
		break;
	case 3:		/* verify */
		if (tp->tp_pem[TLS_CA] == NULL ||
		    (b = BIO_new_mem_buf(tp->tp_pem[TLS_CA],
		    (int)tp->tp_len[TLS_CA])) == NULL)
			return (-1);
		store = SSL_CTX_get_cert_store(ctx);
		while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
			if (X509_STORE_add_cert(store, x) == 1)
				n++;
			X509_free(x);
		}
		BIO_free(b);
		ERR_clear_error();
		if (n == 0)
			return (-1);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
		break;
	default:
		break;
	}
	return (0);
}

/*
 * The context for a listener from the files received for it, which are
 * then forgotten; NULL (logged) when they do not make one.
 */
void *
apitls_ctx(int kind, const struct tls_conf *tls)
{
	static const int	 versions[] = { TLS1_VERSION, TLS1_1_VERSION,
				    TLS1_2_VERSION, TLS1_3_VERSION };
	struct tls_pending	*tp = &apitls_pending[kind];
	const char		*name = kind == LISTEN_API ? "api_tls" :
				    "metrics_tls";
	SSL_CTX			*ctx = NULL;
	int			 i;

	/* the parent replaces an api without OpenSSL before this */
	if ((dl_wanted & DL_TLS) == 0) {
		log_warnx("%s: OpenSSL is not loaded", name);
		goto done;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		apitls_error("cannot make a context", name);
		goto done;
	}
	SSL_CTX_set_min_proto_version(ctx, versions[tls->tls_min_version & 3]);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (apitls_load(ctx, tp, tls->tls_client_auth) == -1) {
		apitls_error("certificate, key or CA refused", name);
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
 done:
	for (i = 0; i < TLS_NFILES; i++) {
		freezero(tp->tp_pem[i], tp->tp_len[i]);
		tp->tp_pem[i] = NULL;
		tp->tp_len[i] = 0;
	}
	return (ctx);
}

void
apitls_ctx_free(void *ctx)
{
	if (ctx != NULL)
		SSL_CTX_free(ctx);
}

/* evhttp's connection factory for a TLS listener. */
struct bufferevent *
apitls_bev(struct event_base *base, void *ctx)
{
	SSL	*ssl;

	if ((ssl = SSL_new(ctx)) == NULL) {
		ERR_clear_error();
		return (NULL);
	}
	return (bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE));
}
