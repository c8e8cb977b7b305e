/* SPDX-License-Identifier: MIT
 * broker.h - the broker's internal structures, shared by the files of
 * src/broker: the broker context, listeners, client connections, sessions,
 * refcounted messages, and the subscription trie.
 *
 * Threading: one worker owns a broker context and everything reachable from
 * it. Nothing here is global: every function takes the context explicitly,
 * so several workers can run later (DESIGN.md §4).
 *
 * Life cycle of a connection:
 *   accept -> CL_NEW (TLS and WebSocket handshakes, then CONNECT, expected
 *   within connect_timeout, small packet limit) -> [CL_AUTH: enhanced authentication exchange] -> CL_CONNECTED
 *   (session attached; take-over of an older connection happens only here,
 *   after authentication) -> CL_CLOSED (socket closed, freed after the loop
 *   turn so that events already fetched for it are skipped safely).
 *
 * Message flow: a PUBLISH is decoded once into a refcounted struct wmq_msg;
 * the router matches it against the trie; each receiving session gets a
 * queue entry that points at the shared message and carries only the
 * per-receiver header (QoS, packet id, subscription identifiers). */
#ifndef WMQ_BROKER_BROKER_H
#define WMQ_BROKER_BROKER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"
#include "common/hmap.h"
#include "common/log.h"
#include "config/config.h"
#include "net/conn.h"
#include "net/ev.h"
#include "net/tls.h"
#include "net/ws.h"
#include "protocol/mqtt.h"
#include "security/audit.h"
#include "security/authn.h"
#include "security/authpool.h"
#include "security/defence.h"
#include "security/policy.h"
#include "store/store.h"

#define WMQ_RXBUF (64u * 1024u)

struct wmq_broker;
struct wmq_session;
struct wmq_client;

/* ---- messages --------------------------------------------------------- */

/* One application message, shared by every queue it lands in. Topic,
 * payload and properties live in the same allocation as the struct. */
struct wmq_msg {
	uint32_t refs;
	uint8_t qos;           /* QoS it was published with */
	bool retain;           /* RETAIN flag as published */
	uint16_t topic_len;
	uint32_t payload_len;
	uint32_t props_len;    /* forwarded v5 properties: no topic alias, no
	                        * subscription ids, no message expiry (that one is
	                        * rewritten per delivery with the time left) */
	uint64_t id;           /* broker-wide sequence number */
	uint64_t expire_at;    /* monotonic ms deadline, 0 = never */
	uint32_t expiry_interval; /* Message Expiry Interval as published,
	                           * UINT32_MAX = none */
	char *topic;           /* NUL-terminated */
	uint8_t *payload;
	uint8_t *props;
	char *origin_cid;      /* publisher's client id (no-local), or NULL */
	char *origin_user;     /* publisher's username, or NULL */
	uint64_t stored_gen;   /* store batch that already holds it (persist.c) */
};

/* Build a message from a decoded PUBLISH (or will). |expiry| is the Message
 * Expiry Interval in seconds when |has_expiry|. Ownership: refs = 1, caller
 * owns that reference. */
WMQ_MUST_USE wmq_err wmq_msg_new(struct wmq_bytes topic, struct wmq_bytes payload,
				 const struct wmq_props *props, uint8_t qos, bool retain,
				 const char *origin_cid, const char *origin_user, uint64_t now_ms,
				 uint64_t id, struct wmq_msg **out);
static inline struct wmq_msg *wmq_msg_ref(struct wmq_msg *m)
{
	m->refs++;
	return m;
}
void wmq_msg_unref(struct wmq_msg *m); /* NULL-safe */
/* Seconds of expiry left (>= 1), or 0 with *expired set if past deadline;
 * returns UINT32_MAX when the message has no expiry. */
uint32_t wmq_msg_expiry_left(const struct wmq_msg *m, uint64_t now_ms, bool *expired);
size_t wmq_msg_size(const struct wmq_msg *m);

/* ---- topic trie nodes (tnode.c) ----------------------------------------- */

/* What the subscription trie and the retained trie share. Embedded as the
 * first member of their nodes; the children map points at the embedding
 * node. */
struct wmq_tnode {
	struct wmq_tnode *parent;
	char *level; /* owned; "" for the root */
	size_t level_len;
	struct wmq_hmap children; /* level -> embedding node */
};

WMQ_MUST_USE wmq_err wmq_tnode_init(struct wmq_tnode *n, struct wmq_tnode *parent,
				    struct wmq_bytes level);
void wmq_tnode_cleanup(struct wmq_tnode *n);
/* The embedding node of child |level|, or NULL. */
void *wmq_tnode_child(const struct wmq_tnode *n, struct wmq_bytes level);
/* Index |child| (whose parent is set) in its parent under its level. */
WMQ_MUST_USE wmq_err wmq_tnode_attach(struct wmq_tnode *child, void *owner);
void wmq_tnode_detach(struct wmq_tnode *child);
/* Split the first level off |rest|; returns true if another level follows
 * ("a/" has the levels "a" and ""). */
bool wmq_topic_split_first(struct wmq_bytes rest, struct wmq_bytes *level, struct wmq_bytes *next);

/* ---- subscription trie (router.c) ------------------------------------- */

struct wmq_rnode;
struct wmq_share;

/* One subscription of one session. Owned by the session's subs map. */
struct wmq_sub {
	struct wmq_session *session;
	struct wmq_rnode *node;   /* where it hangs in the trie */
	struct wmq_share *share;  /* shared group, or NULL */
	size_t idx;               /* index in node->subs or share->members */
	struct wmq_subopts opts;
	uint32_t sub_id;          /* 0 = none */
	char *filter;             /* as subscribed, incl. "$share/g/" prefix */
	size_t filter_len;
};

struct wmq_share {
	char *group;
	size_t group_len;
	struct wmq_sub **members;
	size_t n, cap;
	size_t rr; /* round-robin cursor */
};

struct wmq_rnode {
	struct wmq_tnode t; /* children include "+" and "#" */
	struct wmq_rnode *plus, *hash; /* shortcuts into children */
	struct wmq_sub **subs;
	size_t nsubs, capsubs;
	struct wmq_share **shares;
	size_t nshares, capshares;
};

struct wmq_router {
	struct wmq_rnode *root;
	size_t count; /* subscriptions */
};

WMQ_MUST_USE wmq_err wmq_router_init(struct wmq_router *r);
void wmq_router_cleanup(struct wmq_router *r);
/* Hang |sub| (filter already validated; sub->filter set) in the trie. */
WMQ_MUST_USE wmq_err wmq_router_add(struct wmq_router *r, struct wmq_sub *sub);
void wmq_router_remove(struct wmq_router *r, struct wmq_sub *sub);
/* Call |fn| for every plain subscription matching |topic|, and once per
 * matching shared group with the member picked round-robin (connected
 * members first). Cost grows with the topic's levels and the matching
 * subscriptions, not with unrelated ones. */
typedef void (*wmq_router_fn)(void *arg, struct wmq_sub *sub, bool shared);
void wmq_router_match(struct wmq_router *r, struct wmq_bytes topic, wmq_router_fn fn, void *arg);

/* ---- retained messages (retain.c) --------------------------------------- */

struct wmq_retain_node {
	struct wmq_tnode t;
	struct wmq_msg *msg; /* retained message at exactly this topic */
};

struct wmq_retained {
	struct wmq_retain_node *root;
	size_t count;
	uint64_t bytes;
};

WMQ_MUST_USE wmq_err wmq_retained_init(struct wmq_retained *rt);
void wmq_retained_cleanup(struct wmq_retained *rt);
/* Set (msg non-empty payload) or delete (empty payload) the retained
 * message for msg->topic. Takes its own reference. */
WMQ_MUST_USE wmq_err wmq_retained_set(struct wmq_retained *rt, struct wmq_msg *msg);
/* Visit retained messages matching |filter| (plain filter). A visitor
 * returning false stops the walk. At most |limit| visits. */
typedef bool (*wmq_retained_fn)(void *arg, struct wmq_msg *msg);
void wmq_retained_match(struct wmq_retained *rt, struct wmq_bytes filter, size_t limit,
			wmq_retained_fn fn, void *arg);

/* ---- sessions (session.c) ---------------------------------------------- */

enum wmq_qstate {
	WMQ_Q_QUEUED = 0,   /* not sent yet */
	WMQ_Q_WAIT_PUBACK,  /* QoS 1 sent */
	WMQ_Q_WAIT_PUBREC,  /* QoS 2 sent */
	WMQ_Q_WAIT_PUBCOMP, /* QoS 2 PUBREL sent */
};

/* One delivery of a message to one session. */
struct wmq_qent {
	struct wmq_qent *next, *prev;
	struct wmq_msg *msg; /* one reference */
	uint8_t qos;         /* delivery QoS */
	bool retain;         /* RETAIN flag to send */
	uint8_t state;       /* enum wmq_qstate */
	uint16_t pid;
	bool stored;         /* mirrored in the store */
	uint64_t seq;        /* order within the session (store key) */
	uint16_t nids;
	uint32_t ids[];      /* subscription identifiers to send */
};

struct wmq_qlist {
	struct wmq_qent *head, *tail;
	uint64_t bytes;
	uint32_t count;
};

#define WMQ_EXPIRY_NEVER UINT32_MAX

struct wmq_session {
	/* Ordered by size to keep idle sessions small. */
	char *client_id;
	char *username;               /* owner's username, or NULL */
	struct wmq_client *client;    /* attached connection, or NULL */
	uint16_t *in_qos2;            /* inbound QoS 2 ids awaiting PUBREL */
	struct wmq_msg *will;         /* delayed will waiting, or NULL */
	struct wmq_authz *will_authz; /* its publisher's authorizer (NULL after a
	                               * restart: rebuilt from username) */
	struct wmq_session *off_prev, *off_next; /* offline list (timed) */
	struct wmq_hmap *subs;        /* filter -> struct wmq_sub; NULL until the
	                               * first subscription (idle devices stay small) */
	struct wmq_qlist queue;       /* waiting to be sent */
	struct wmq_qlist inflight;    /* sent, waiting for an acknowledgement */
	uint64_t expire_at;           /* monotonic ms while offline, 0 otherwise */
	uint64_t next_seq;            /* last queue sequence number used */
	uint64_t will_at;             /* monotonic ms to publish |will| */
	uint64_t match_gen;           /* router scratch: publish generation */
	uint32_t cid_len;             /* client ids are at most 65535 bytes */
	uint32_t expiry_interval;     /* seconds, WMQ_EXPIRY_NEVER */
	uint32_t n_in_qos2, cap_in_qos2;
	uint32_t match_slot;          /* router scratch: index into match set */
	uint16_t next_pid;
	uint8_t version;
	bool stored;                  /* persistent and mirrored in the store */
	bool on_offline_list;
};

/* ---- connections (client.c) --------------------------------------------- */

enum wmq_cstate {
	WMQ_CL_NEW = 0,
	WMQ_CL_AUTH,
	WMQ_CL_CONNECTED,
	WMQ_CL_CLOSED,
};

struct wmq_listener;

/* What finish_connect() needs from a CONNECT once the packet buffer is gone
 * (the verdict of the auth pool arrives on a later loop turn). */
struct wmq_connect_pend {
	bool clean;
	bool assigned;              /* the broker assigned the client id */
	uint16_t server_keepalive;  /* 0 = none to send */
	bool has_session_expiry;
	uint32_t session_expiry;
};

/* An acknowledgement waiting for durability (persist.c). */
struct wmq_held_ack {
	uint64_t ticket; /* 0 = ready; UINT64_MAX = this turn's batch; else
	                  * the store ticket that must be committed */
	uint8_t type;    /* PUBACK, PUBREC or PUBCOMP; 0 = send nothing */
	uint8_t rc;
	uint16_t pid;
};

struct wmq_client {
	/* Ordered by size to keep idle connections small. */
	struct wmq_broker *b;
	struct wmq_listener *listener;
	struct wmq_conn conn;
	struct wmq_ev_handle h;
	struct wmq_session *session;
	char *client_id;            /* owned until attached, then the session's */
	char *username;
	char **alias_in;            /* [max_topic_alias + 1], client -> broker;
	                             * allocated on first use */
	struct wmq_hmap *alias_out; /* topic -> (void*)(uintptr_t)alias; on first use */
	char **alias_out_topics;    /* owned keys of alias_out */
	struct wmq_msg *will;       /* will registered at CONNECT */
	struct wmq_client *prev, *next;       /* all clients */
	struct wmq_client *dirty_next;        /* needs a flush this turn */
	struct wmq_client *dead_next;         /* freed after the loop turn */
	struct wmq_client *held_next; /* broker's list of clients with acks held */
	struct wmq_held_ack *held;  /* acks in order, some awaiting a commit */
	struct wmq_authz *authz;    /* the principal's authorizer, or NULL */
	struct wmq_authpool_job *held_job; /* CL_AUTH: CONNECT held for a back-off */
	uint64_t hold_until;        /* monotonic ms: when held_job is submitted */
	uint64_t accepted_at;       /* monotonic ms */
	uint64_t last_rx;           /* monotonic ms of the last packet */
	uint64_t dropped;           /* QoS 0 messages dropped for this client */
	uint64_t auth_token;        /* CL_AUTH: key in b->auth_waiting, 0 = none */
	uint64_t authz_denied;      /* authorization denials of this connection */
	uint64_t cred_tag;          /* fingerprint of the verifier it logged in with */
	uint32_t peer_max_packet;   /* largest packet the peer accepts (v5) */
	uint32_t will_delay;
	uint32_t nheld, capheld;
	struct wmq_connect_pend pend; /* CL_AUTH: the CONNECT being decided */
	struct wmq_addr addr;       /* peer address (valid when has_addr) */
	enum wmq_cstate state;
	uint16_t keepalive;         /* effective, seconds */
	uint16_t peer_receive_max;  /* its window for our QoS 1/2 sends (v5) */
	uint16_t peer_alias_max;    /* aliases we may assign (v5) */
	uint16_t alias_in_n;
	uint16_t alias_out_n;
	uint8_t version;
	bool req_problem_info;
	bool req_response_info;
	bool dirty;
	bool want_write;
	bool closing_sent;          /* DISCONNECT queued; close after flush */
	bool taken_over;            /* a newer connection took the session */
	bool cert_authenticated;    /* TLS client certificate named the client */
	bool pw_authenticated;      /* logged in with a password (store) */
	bool recheck_again;         /* another change came while being re-checked */
	bool on_held_list;
	bool ws_opened;             /* WebSocket upgrade seen complete (logged) */
	bool has_addr;
	bool pw_attempt;            /* CL_AUTH: credentials are being verified */
	uint8_t refuse;             /* enum wmq_defence_verdict found at accept:
	                             * answered at CONNECT */
};

/* ---- listeners and broker ------------------------------------------------ */

struct wmq_listener {
	struct wmq_broker *b;
	struct wmq_listener_cfg cfg; /* copy; strings borrowed from b->cfg */
	int fds[2];
	struct wmq_ev_handle h[2];
	size_t nfds;
	uint16_t bound_port;
	long nconn;
	struct wmq_tls_ctx *tls;     /* TLS listener, or NULL; rebuilt on SIGHUP */
	/* protocol websockets: the options every connection borrows, and
	 * the split origin allow-list they point to (owned) */
	bool ws;
	struct wmq_ws_opts ws_opts;
	char *ws_origin_buf;
	const char **ws_origin_list;
};

struct wmq_stats {
	uint64_t msgs_received, msgs_sent, msgs_dropped;
	uint64_t pub_received, pub_sent;
	uint64_t bytes_received, bytes_sent;
	uint64_t clients_total_connected_ever;
	uint64_t connects_refused;
	uint64_t malformed;
	uint64_t auth_refused;      /* bad username or password, bound client id */
	uint64_t authz_denied;      /* publish, subscribe, will denied */
	uint64_t receive_denied;    /* deliveries withheld by the policy */
	uint64_t subs_revoked;      /* subscriptions removed by a policy change */
	uint64_t clients_revoked;   /* clients disconnected by an administrative change */
	/* brute-force defence */
	uint64_t refused_rate;      /* connections over max_connection_rate */
	uint64_t refused_banned;    /* connections and CONNECTs refused by a ban or lock-out */
	uint64_t lockouts;          /* lock-outs started */
	uint64_t backoff_held;      /* CONNECTs held for a back-off, then verified */
	uint64_t backoff_refused;   /* CONNECTs refused during a back-off, not verified */
	uint64_t ban_disconnects;   /* live connections closed by a new ban */
};

/* Scratch set for one publish's matches (see deliver.c). */
struct wmq_match {
	struct wmq_session *s;
	uint8_t qos;
	bool rap;
	uint16_t nids;
	uint32_t first_id_slot;
};

struct wmq_broker {
	struct wmq_config cfg;
	struct wmq_log log;
	FILE *log_file;             /* opened for log_dest file, or NULL */
	struct wmq_ev *ev;
	struct wmq_listener *listeners;
	size_t n_listeners;
	struct wmq_router router;
	struct wmq_retained retained;
	struct wmq_hmap sessions;   /* client id -> session */
	struct wmq_session *offline_head; /* sessions with a deadline */
	struct wmq_client *clients; /* all connections */
	size_t nclients;            /* all connections */
	size_t nconnected;          /* CL_CONNECTED */
	struct wmq_client *dirty_head;
	struct wmq_client *dead_head;
	uint64_t next_msg_id;
	uint64_t match_gen;
	struct wmq_match *matches;
	size_t nmatches, capmatches;
	uint32_t *match_ids;
	size_t nmatch_ids, capmatch_ids;
	struct wmq_sub **shared_picks;
	size_t npicks, cappicks;
	struct wmq_stats stats;
	struct wmq_authn_registry authn;
	uint64_t now;               /* monotonic ms, read once per loop turn: the
	                             * clock of the hot path (keepalive, expiry) */
	uint64_t started_at;        /* monotonic ms */
	int64_t started_wall;
	uint64_t next_housekeeping; /* monotonic ms */
	uint64_t next_sys;          /* monotonic ms */
	int sigfd;
	struct wmq_ev_handle sig_h;
	bool stop;
	bool reload_requested;
	struct wmq_store *store;    /* NULL = memory only */
	struct wmq_store_batch *batch; /* this turn's ops, or NULL */
	uint64_t batch_gen;
	uint64_t persist_ops;       /* ops recorded (to see if a publish stored) */
	struct wmq_client *held_clients;
	struct wmq_ev_handle store_h;
	bool store_failed;
	uint8_t *rxbuf;             /* WMQ_RXBUF bytes: reads of idle connections */
	/* security (security.c): only with a store */
	struct wmq_authpool *authpool; /* NULL without a store */
	struct wmq_ev_handle authpool_h;
	struct wmq_hmap auth_waiting;  /* token (8 bytes) -> client in CL_AUTH */
	uint64_t next_auth_token;
	struct wmq_policy *policy;     /* NULL: no rules, no authorization */
	bool policy_enforced;          /* a policy was in force: an empty one denies */
	struct wmq_audit *audit;       /* audit_file, or NULL */
	struct wmq_admin *admin;       /* admin_socket (admin.c), or NULL */
	/* brute-force defence (security.c): with or without a store */
	struct wmq_defence *defence;
	struct wmq_hmap held_addrs;    /* peer address -> client holding a CONNECT */
	uint64_t next_hold_at;         /* monotonic ms of the earliest hold, 0 = none */
	struct wmq_hmap psk;           /* TLS-PSK identity -> key (security.c) */
};

/* broker.c */
WMQ_MUST_USE wmq_err wmq_broker_new(struct wmq_config *cfg, struct wmq_broker **out);
/* Bind the listeners and install signal handling. */
WMQ_MUST_USE wmq_err wmq_broker_start(struct wmq_broker *b);
/* Run until SIGTERM/SIGINT or wmq_broker_stop(). */
WMQ_MUST_USE wmq_err wmq_broker_run(struct wmq_broker *b);
void wmq_broker_free(struct wmq_broker *b);
uint64_t wmq_broker_next_id(struct wmq_broker *b);
/* The port of listener |i| after binding (for port 0). */
uint16_t wmq_broker_port(const struct wmq_broker *b, size_t i);

/* client.c */
/* |addr| may be NULL (not an IP peer); |refuse| is the accept-time verdict
 * (WMQ_DEFENCE_OK, or BANNED / RATE_LIMITED to refuse at CONNECT). */
void wmq_client_accept(struct wmq_listener *l, int fd, const char *peer, const struct wmq_addr *addr,
		       enum wmq_defence_verdict refuse);
void wmq_client_on_event(struct wmq_ev_handle *h, uint32_t events);
/* Close the connection (sending a v5 DISCONNECT with |rc| first when rc !=
 * 0xff and the protocol allows it). Publishes the will unless suppressed. */
void wmq_client_close(struct wmq_client *c, uint8_t rc, const char *why);
void wmq_client_free(struct wmq_client *c);
/* Flush pending output; arm EV_WRITE if the socket is full. */
void wmq_client_flush(struct wmq_client *c);
void wmq_client_mark_dirty(struct wmq_client *c);
/* Periodic checks: keepalive, connect timeout. */
void wmq_client_housekeeping(struct wmq_client *c, uint64_t now);
/* Encode and queue one packet on the connection. */
WMQ_MUST_USE wmq_err wmq_client_send(struct wmq_client *c, const struct wmq_pkt *pkt);

/* Refuse |c| before it is connected (state CL_NEW or CL_AUTH): CONNACK
 * with |rc| (v5; mapped to the 3.1.1 return code), logged, then close. */
void wmq_client_refuse(struct wmq_client *c, uint8_t rc, const char *why);
/* The auth pool's verdict for |c| (state CL_AUTH); |j| stays the
 * caller's. */
void wmq_client_auth_done(struct wmq_client *c, const struct wmq_authpool_job *j);

/* admin.c: the admin socket (admin_socket), served by its own thread.
 * Start (creates the socket) after wmq_security_open (it borrows b->audit);
 * refuses to start without a store. Stop joins the thread and unlinks the socket
 * (idempotent; before wmq_security_close). */
struct wmq_admin;
WMQ_MUST_USE wmq_err wmq_admin_start(struct wmq_broker *b);
/* Start the admin thread (wmq_broker_run: after a daemon() fork). */
WMQ_MUST_USE wmq_err wmq_admin_launch(struct wmq_broker *b);
void wmq_admin_stop(struct wmq_broker *b);

/* security.c: authentication pool, policy and audit of the broker. */
/* After the store opened: the pool, the policy, the audit log. */
WMQ_MUST_USE wmq_err wmq_security_open(struct wmq_broker *b);
void wmq_security_close(struct wmq_broker *b);
/* SIGHUP: open audit_file again (log rotation). */
void wmq_security_reopen_audit(struct wmq_broker *b);
/* SIGHUP: load the policy and the bans again (the old ones stay on
 * failure). */
void wmq_security_reload(struct wmq_broker *b);
/* SIGHUP, after b->cfg changed: the brute-force defence settings. */
void wmq_security_reconfigure(struct wmq_broker *b);
/* What an administrative change touched (flags for wmq_security_changed). */
enum wmq_sec_change {
	WMQ_SEC_CHG_POLICY = 1u << 0, /* rules, groups, roles, memberships */
	WMQ_SEC_CHG_USERS = 1u << 1,  /* users, passwords, enabled flags, client-id bindings */
	WMQ_SEC_CHG_BANS = 1u << 2,   /* bans */
	WMQ_SEC_CHG_PSK = 1u << 3,    /* TLS-PSK identities */
};
/* The identity store changed under the running broker (admin socket,
 * SIGHUP): reload what |what| names and make it reach live sessions. */
void wmq_security_changed(struct wmq_broker *b, unsigned what);
/* The TLS-PSK key of |identity| from the in-memory cache (loaded from the
 * store at start, on SIGHUP and on WMQ_SEC_CHG_PSK/USERS). WMQ_OK with
 * *len, NOTFOUND, LIMIT (key longer than |cap|). */
WMQ_MUST_USE wmq_err wmq_security_psk_key(struct wmq_broker *b, const char *identity, uint8_t *key,
					  size_t cap, size_t *len);
/* The user attached to a PSK identity (wardmq_ctl psk add --user), or NULL
 * (none, or unknown identity). Borrowed until the next PSK reload. */
const char *wmq_security_psk_user(struct wmq_broker *b, const char *identity);
/* Queue |c|'s CONNECT on the pool; false when out of memory. |anonymous|:
 * no password check (anonymous client, or username proved by TLS).
 * |hold_ms| > 0: keep the job until then (back-off), see
 * wmq_security_release_held. */
bool wmq_security_submit(struct wmq_client *c, const char *username, struct wmq_bytes password,
			 bool has_password, bool anonymous, uint64_t hold_ms);
/* Whether a CONNECT from |c|'s address is already held (one per address:
 * parallel connections must not all be verified when a back-off ends). */
bool wmq_security_holding(const struct wmq_client *c);
/* Submit the held CONNECTs whose back-off ended at |now| (monotonic). */
void wmq_security_release_held(struct wmq_broker *b, uint64_t now);
/* At accept, before anything is read: address bans and lock-outs, the
 * connection rate. Counts and audits a refusal. */
enum wmq_defence_verdict wmq_security_on_accept(struct wmq_broker *b, struct wmq_listener *l,
						const struct wmq_addr *a, const char *peer);
/* At CONNECT, before credentials are verified: bans, lock-outs and
 * back-off for |c| (client id |cid| as sent). Counts and audits BANNED. */
enum wmq_defence_verdict wmq_security_check_login(struct wmq_client *c, struct wmq_bytes cid,
						  struct wmq_defence_hit *hit);
/* A CONNECT refused during a back-off (counted and audited). */
void wmq_security_backoff_refused(struct wmq_client *c, uint64_t wait_ms);
/* The pool's verdict on a credential check: back-off bookkeeping, lock-out
 * log and audit line. */
void wmq_security_login_result(struct wmq_client *c, bool ok);
/* Forget |c| (freed or closed while its job runs): its verdict is dropped. */
void wmq_security_forget(struct wmq_client *c);
/* Build |c|'s authorizer from the verdict (groups and roles). */
WMQ_MUST_USE wmq_err wmq_security_principal(struct wmq_client *c, const struct wmq_authpool_job *j);
/* Decide |action| on |topic| for |c|. Without a policy: allow. Writes an
 * audit line for a denial (event |event|, e.g. "publish", "will"). */
bool wmq_security_check(struct wmq_client *c, enum wmq_policy_action action, struct wmq_bytes topic,
			uint8_t qos, const char *event, struct wmq_policy_decision *d);
/* A session resumed by |c| (its subscriptions are re-checked against the
 * policy in force). */
void wmq_security_resumed(struct wmq_client *c);
/* Whether |s|'s delayed will may be published now (checked when it is
 * sent: the policy may have changed since). Frees s->will_authz. */
bool wmq_security_will_ok(struct wmq_broker *b, struct wmq_session *s);
/* An audit line for a refused authentication. */
void wmq_security_audit_authn(struct wmq_client *c, const char *reason);

/* session.c */
WMQ_MUST_USE wmq_err wmq_session_new(struct wmq_broker *b, const char *cid,
				     struct wmq_session **out);
/* End the session: publishes a pending will, drops subscriptions, queues. */
void wmq_session_end(struct wmq_broker *b, struct wmq_session *s);
/* The connection went away; start the expiry clock (or end it now). */
void wmq_session_detach(struct wmq_broker *b, struct wmq_session *s, uint64_t now);
/* Attach connection |c|: cancels the expiry clock and a delayed will
 * ([MQTT-3.1.3-9]). */
void wmq_session_attach(struct wmq_broker *b, struct wmq_session *s, struct wmq_client *c);
/* Deliver |msg| to |s| at |qos| with subscription ids; queues or sends.
 * QoS 0 for a subscriber whose socket is backed up is dropped (live
 * traffic: a slow consumer never stalls others) unless |queue_qos0|, which
 * makes it wait in the bounded queue (retained messages on subscribe). */
void wmq_session_deliver(struct wmq_broker *b, struct wmq_session *s, struct wmq_msg *msg,
			 uint8_t qos, bool retain, const uint32_t *ids, uint16_t nids,
			 bool queue_qos0);
/* Send as much of the queue as the peer's window and the socket allow. */
void wmq_session_pump(struct wmq_broker *b, struct wmq_session *s);
/* After reconnect: resend unacknowledged PUBLISH (DUP) and PUBREL. */
void wmq_session_resend(struct wmq_broker *b, struct wmq_session *s);
/* Acknowledgement from the peer; returns false if the id is unknown. */
bool wmq_session_ack(struct wmq_broker *b, struct wmq_session *s, uint8_t type, uint16_t pid,
		     uint8_t rc);
WMQ_MUST_USE wmq_err wmq_session_subscribe(struct wmq_broker *b, struct wmq_session *s,
					   struct wmq_bytes filter, const struct wmq_subopts *o,
					   uint32_t sub_id, bool *existed);
struct wmq_sub *wmq_session_find_sub(const struct wmq_session *s, struct wmq_bytes filter);
size_t wmq_session_nsubs(const struct wmq_session *s);
bool wmq_session_unsubscribe(struct wmq_broker *b, struct wmq_session *s,
			     struct wmq_bytes filter);
void wmq_session_housekeeping(struct wmq_broker *b, uint64_t now);
void wmq_session_free_all(struct wmq_broker *b);
bool wmq_session_in_qos2_has(const struct wmq_session *s, uint16_t pid);
WMQ_MUST_USE wmq_err wmq_session_in_qos2_add(struct wmq_session *s, uint16_t pid);
bool wmq_session_in_qos2_del(struct wmq_session *s, uint16_t pid);

/* deliver.c */
/* Route one message to every matching session; returns the number of
 * receivers. Handles retained set/delete when msg->retain. */
size_t wmq_broker_publish(struct wmq_broker *b, struct wmq_msg *msg);
/* Publish a will: its Message Expiry starts now. */
void wmq_broker_publish_will(struct wmq_broker *b, struct wmq_msg *will);
/* Send retained messages matching |filter| to |s| (on subscribe). */
void wmq_broker_send_retained(struct wmq_broker *b, struct wmq_session *s,
			      struct wmq_bytes filter, const struct wmq_subopts *o,
			      uint32_t sub_id);

/* Mark a loaded session offline (expiry clock, delayed will). */
void wmq_session_set_offline(struct wmq_broker *b, struct wmq_session *s);
/* Subscribe without mirroring to the store (loading). */
WMQ_MUST_USE wmq_err wmq_session_subscribe_loaded(struct wmq_broker *b, struct wmq_session *s,
						  struct wmq_bytes filter,
						  const struct wmq_subopts *o, uint32_t sub_id,
						  bool *existed);
/* Append a loaded queue entry to the queue or in-flight list by state. */
void wmq_session_load_qent(struct wmq_session *s, struct wmq_qent *e);

/* persist.c */
WMQ_MUST_USE wmq_err wmq_persist_open(struct wmq_broker *b);
void wmq_persist_close(struct wmq_broker *b);
void wmq_persist_end_of_turn(struct wmq_broker *b);
bool wmq_persist_session_is_durable(const struct wmq_session *s);
void wmq_persist_session(struct wmq_broker *b, struct wmq_session *s);
void wmq_persist_session_del(struct wmq_broker *b, struct wmq_session *s);
void wmq_persist_sub(struct wmq_broker *b, struct wmq_session *s, const struct wmq_sub *sub);
void wmq_persist_sub_del(struct wmq_broker *b, struct wmq_session *s, const struct wmq_sub *sub);
void wmq_persist_enqueue(struct wmq_broker *b, struct wmq_session *s, struct wmq_qent *e);
void wmq_persist_qstate(struct wmq_broker *b, struct wmq_session *s, struct wmq_qent *e);
void wmq_persist_qdel(struct wmq_broker *b, struct wmq_session *s, struct wmq_qent *e);
void wmq_persist_in_qos2(struct wmq_broker *b, struct wmq_session *s, uint16_t pid, bool add);
void wmq_persist_retained(struct wmq_broker *b, struct wmq_msg *m);
/* Did the ops since |ops_before| make the current ack need a commit? */
bool wmq_persist_must_hold(const struct wmq_broker *b, uint64_t ops_before);
WMQ_MUST_USE wmq_err wmq_persist_hold_ack(struct wmq_broker *b, struct wmq_client *c, uint8_t type,
					  uint16_t pid, uint8_t rc, bool durable);
void wmq_persist_held_unlink(struct wmq_broker *b, struct wmq_client *c);

/* sys.c */
void wmq_sys_publish(struct wmq_broker *b, uint64_t now);

#endif
