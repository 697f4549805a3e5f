/*
 * Processes added, changed and removed through the API, in the config
 * role.  The role keeps the file as last read and the list of changes
 * made since; each change is checked by parsing the file with every
 * change on top, exactly as a reload would, and becomes a new
 * generation only when that succeeds.  A reload from the file starts
 * the list afresh; config/save writes file and list back as one.
 */

#include <sys/types.h>

#include <stdlib.h>
#include <string.h>

#include "phpeekd.h"

#define EDIT_CHUNK	8192	/* bytes of saved text per message */

static char		*edit_text;	/* the file as last read */
static size_t		 edit_len;
static struct cfg_edits	 edit_list = TAILQ_HEAD_INITIALIZER(edit_list);

static void	edit_clear(struct cfg_edits *);
static struct cfg_edit *edit_new(const char *, const char *);

static void
edit_clear(struct cfg_edits *list)
{
	struct cfg_edit	*ce;

	while ((ce = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, ce, ce_entry);
		free(ce->ce_json);
		free(ce);
	}
}

static struct cfg_edit *
edit_new(const char *name, const char *json)
{
	struct cfg_edit	*ce;

	if ((ce = calloc(1, sizeof(*ce))) == NULL)
		fatal("%s", __func__);
	strlcpy(ce->ce_name, name, sizeof(ce->ce_name));
	if (json != NULL && (ce->ce_json = strdup(json)) == NULL)
		fatal("%s", __func__);
	return (ce);
}

/* A file was read and parsed: it is the base from now on. */
void
edit_file(char *text, size_t len)
{
	free(edit_text);
	edit_text = text;
	edit_len = len;
	edit_clear(&edit_list);
}

/*
 * One change: op, name, and for an add or an update the process as
 * JSON, which is YAML.  An earlier change to the same process is
 * replaced by it.
 */
int
edit_request(struct privsep *ps, struct imsg *imsg)
{
	struct parse_result	 pr;
	struct cfg_edits	 try;
	struct cfg_edit		*ce, *old;
	struct ibuf		 buf;
	uint32_t		 gen = imsg_get_peerid(imsg);
	uint8_t			 op;
	char			 name[CONF_NAME_MAX], *json = NULL;
	int			 rv;

	imsg_get_ibuf(imsg, &buf);
	if (ibuf_get_u8(&buf, &op) == -1 ||
	    ibuf_get_strbuf(&buf, name, sizeof(name)) == -1 ||
	    ibuf_get_str(&buf, &json) == -1 || ibuf_left(&buf) != 0 ||
	    name[0] == '\0' || op < CTL_ADD || op > CTL_REMOVE) {
		free(json);
		return (-1);
	}
	memset(&pr, 0, sizeof(pr));
	TAILQ_INIT(&pr.pr_diags);
	if (edit_text == NULL) {
		diag_add(&pr.pr_diags, DIAG_ERROR, 0, 0, "no configuration "
		    "file has been read");
		free(json);
		config_send_result(ps, gen, -1, &pr);
		return (0);
	}
	/* the list as it would be, the old one untouched if it fails */
	TAILQ_INIT(&try);
	TAILQ_FOREACH(old, &edit_list, ce_entry) {
		if (strcmp(old->ce_name, name) == 0)
			continue;
		ce = edit_new(old->ce_name, old->ce_json);
		TAILQ_INSERT_TAIL(&try, ce, ce_entry);
	}
	ce = edit_new(name, op == CTL_REMOVE ? NULL : json);
	TAILQ_INSERT_TAIL(&try, ce, ce_entry);
	free(json);
	rv = parse_config_edits("", edit_text, edit_len, &try, &pr);
	if (rv == 0) {
		edit_clear(&edit_list);
		TAILQ_CONCAT(&edit_list, &try, ce_entry);
	} else
		edit_clear(&try);
	config_send_result(ps, gen, rv, &pr);
	return (0);
}

/* The file with the changes, as text, to the parent that writes it. */
int
edit_save(struct privsep *ps, struct imsg *imsg)
{
	struct ibuf	*buf;
	uint32_t	 id = imsg_get_peerid(imsg);
	char		*text = NULL, err[128] = "";
	size_t		 len = 0, off, n;
	int		 rv;

	if (imsg_get_len(imsg) != 0)
		return (-1);
	if (edit_text == NULL) {
		strlcpy(err, "no configuration file has been read",
		    sizeof(err));
		rv = -1;
	} else
		rv = parse_emit(edit_text, edit_len, &edit_list, &text, &len,
		    err, sizeof(err));
	for (off = 0; rv == 0 && off < len; off += n) {
		n = len - off > EDIT_CHUNK ? EDIT_CHUNK : len - off;
		if (proc_compose(ps, PROC_PARENT, IMSG_CFG_SAVE_DATA, id, -1,
		    text + off, n) == -1)
			fatalx("cannot send the saved configuration");
	}
	free(text);
	if ((buf = proc_create(ps, PROC_PARENT, IMSG_CFG_SAVE_DONE, id,
	    8 + sizeof(err))) == NULL)
		fatalx("cannot answer a save");
	if (ibuf_add_u32(buf, rv == 0 ? 0 : 1) == -1 ||
	    ibuf_add_str(buf, err) == -1)
		fatalx("cannot answer a save");
	proc_close(ps, PROC_PARENT, buf);
	return (0);
}
