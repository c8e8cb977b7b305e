/* SPDX-License-Identifier: MIT
 * bench.h - wardmq_bench internals: configuration, the shared run state,
 * workers (one epoll loop each) and the per-connection bench client.
 *
 * Model. Every MQTT connection is one libwardmq client driven through the
 * event-loop API (wmq_client_fd / want_write / next_timeout_ms / on_*).
 * Clients are spread round-robin over |threads| workers; worker 0 runs on
 * the main thread and also runs the controller, which moves the whole run
 * through its phases (connect, subscribe, run, drain, ...) and prints the
 * progress line. Other workers follow the phase through an atomic and an
 * eventfd. With the default of one thread everything is one epoll loop.
 *
 * Threading. A client, its bench state and its worker's statistics are
 * touched only by the worker's thread. Cross-thread data is limited to
 * the atomics in struct wmq_bench and the atomic counters in each worker
 * (single writer, read by the controller for the progress line); the
 * histograms are merged after every worker has stopped.
 * Ownership: main.c owns the struct wmq_bench and everything hanging off
 * it; workers own nothing. */
#ifndef WMQ_BENCH_H
#define WMQ_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <wardmq/wardmq.h>

#include "hist.h"

/* Payload header written by publishers (native byte order: publisher
 * and subscriber run on the same machine).
 *   offset 0  u32  magic WMQ_BENCH_MAGIC
 *   offset 4  u32  publisher index
 *   offset 8  u32  sequence number, 1, 2, ... per publisher
 *   offset 12 u64  CLOCK_MONOTONIC send time in nanoseconds
 * Payloads smaller than the header carry no header: no latency and no
 * duplicate detection then. */
#define WMQ_BENCH_MAGIC 0x42514d57u /* "WMQB" */
#define WMQ_BENCH_HDR 20u

enum wmq_bench_scenario {
	WMQ_BENCH_CONN,
	WMQ_BENCH_PUB,
	WMQ_BENCH_SUB,
	WMQ_BENCH_FANIN,
	WMQ_BENCH_FANOUT,
	WMQ_BENCH_PAIRS,
};

enum wmq_bench_role {
	WMQ_BENCH_ROLE_PUB,
	WMQ_BENCH_ROLE_SUB,
	WMQ_BENCH_ROLE_CONN,
};

/* Phases, in the order a run may visit them (each one optional). */
enum wmq_bench_phase {
	WMQ_BENCH_PH_INIT,
	WMQ_BENCH_PH_CONNECT_SUBS, /* subscribers connect */
	WMQ_BENCH_PH_SUBSCRIBE,    /* ... and subscribe */
	WMQ_BENCH_PH_OFFLINE,      /* --offline: subscribers disconnect, sessions stay */
	WMQ_BENCH_PH_CONNECT,      /* publishers (or conn clients) connect */
	WMQ_BENCH_PH_RUN,          /* publishers publish for -d seconds */
	WMQ_BENCH_PH_DRAIN,        /* acks and in-transit messages arrive */
	WMQ_BENCH_PH_RECONNECT,    /* --offline: subscribers resume their sessions */
	WMQ_BENCH_PH_BACKLOG,      /* --offline: the queued messages arrive */
	WMQ_BENCH_PH_HOLD,         /* conn: connections stay idle for -d seconds */
	WMQ_BENCH_PH_CHURN,        /* conn --churn: disconnect/reconnect for -d seconds */
	WMQ_BENCH_PH_CLOSE,        /* everyone disconnects */
	WMQ_BENCH_PH_CLEANUP,      /* persistent sessions left behind are removed */
	WMQ_BENCH_PH_DONE,
	WMQ_BENCH_PH__COUNT
};

/* Command-line configuration; read-only once the run starts. */
struct wmq_bench_cfg {
	enum wmq_bench_scenario scenario;
	const char *host;
	uint16_t port;
	long conns;            /* -c */
	long pubs;             /* --pubs override, -1 = from the scenario */
	long subs;             /* --subs override, -1 = from the scenario */
	int qos;               /* -q */
	size_t size;           /* -s payload bytes */
	double duration;       /* -d seconds */
	double rate;           /* -r total msg/s, 0 = as fast as the window allows */
	int version;           /* enum wmq_protocol */
	bool persistent;       /* --persistent */
	bool offline;          /* --offline */
	bool churn;            /* conn --churn */
	bool json;             /* --json */
	bool quiet;            /* -Q: no progress line */
	int threads;           /* -t */
	unsigned window;       /* -w QoS 1/2 messages in flight per publisher */
	unsigned conn_window;  /* handshakes in progress at once */
	unsigned burst;        /* messages per publisher per loop turn (rate 0) */
	unsigned keepalive;    /* -k seconds */
	uint32_t session_expiry;
	double drain_timeout;  /* seconds */
	double phase_timeout;  /* seconds for connect/subscribe/close phases */
	const char *prefix;    /* topic prefix */
	const char *filter;    /* sub scenario filter (default PREFIX/#) */
	const char *id_prefix; /* client id prefix */
	const char *username;  /* "%n" is replaced by the client's index in its role */
	const char *password;  /* same */
	const char *cafile;    /* --cafile: TLS (with --cert/--key: client certificate) */
	const char *certfile;
	const char *keyfile;
	long broker_pid;       /* --broker-pid, 0 = none */
};

/* Where a publisher records the send time of a QoS 1/2 message until its
 * acknowledgement arrives (for the ack latency). */
struct wmq_bench_ack_slot {
	uint16_t mid; /* 0 = free */
	uint64_t t_ns;
};

struct wmq_bench_worker;

/* One MQTT connection of the benchmark. */
struct wmq_bench_client {
	wmq_client *c;
	struct wmq_bench_worker *w;
	enum wmq_bench_role role;
	uint32_t idx;           /* index within its role */
	char id[80];            /* client identifier */
	char *topic;            /* publish topic or subscription filter (owned) */
	int reg_fd;             /* fd registered with epoll, -1 = none */
	uint32_t reg_ev;        /* events registered */
	uint64_t deadline_ns;   /* next library timer, UINT64_MAX = none */
	uint64_t connect_ns;    /* when the current connect started */
	bool open;              /* a connection exists (connecting or up) */
	bool connecting;        /* waiting for CONNACK */
	bool connected;         /* CONNACK accepted */
	bool closing;           /* we asked to disconnect */
	bool in_ready;          /* in the worker's ready ring */
	bool churn;             /* reconnect after the disconnect (churn) */
	bool cleanup;           /* cleanup connect: disconnect at once */
	bool session_ended;     /* a persistent session was ended on close */
	bool persistent;        /* this client uses a persistent session */
	/* publisher */
	uint32_t seq;
	struct wmq_bench_ack_slot *slots; /* |window| entries */
	unsigned slot_hint;
	/* subscriber: last sequence seen from publishers [pub_lo, pub_lo+pub_n) */
	uint32_t pub_lo, pub_n;
	uint32_t *last_seq;
};

/* A bounded FIFO of client pointers. */
struct wmq_bench_ring {
	struct wmq_bench_client **v;
	size_t cap, head, len;
};

struct wmq_bench;

/* First error of a kind, kept for the report. */
struct wmq_bench_err_note {
	int error;        /* WMQ_E_* */
	int reason;       /* MQTT reason code */
	bool by_server;
	char client[80];
};

struct wmq_bench_worker {
	struct wmq_bench *b;
	unsigned id;
	int ep;    /* epoll */
	int evfd;  /* phase-change wake-up */
	pthread_t thread;
	bool thread_started;
	struct wmq_bench_client **cl; /* this worker's clients */
	size_t n;
	size_t npubs;
	struct wmq_bench_ring ready; /* publishers that can publish now */
	struct wmq_bench_ring connq; /* clients waiting to connect */
	unsigned handshakes;         /* connects in progress */
	unsigned conn_window;
	bool connq_clean;            /* clean start for the queued connects */
	int phase;                   /* phase this worker has entered */
	uint8_t *payload;
	uint64_t now_ns;             /* loop-turn clock */
	uint64_t next_timer_scan_ns;
	/* rate limiting (-r): tokens = rate_w * elapsed - rate_sent */
	double rate_w;
	uint64_t rate_base_ns;
	uint64_t rate_sent;
	/* statistics: written by this worker only, read by the controller */
	_Atomic uint64_t sent, acked, pub_failed, pub_errors;
	_Atomic uint64_t received, unique, dups, foreign;
	_Atomic uint64_t disconnects, sub_failed, connects, connect_failed;
	_Atomic uint64_t session_lost, inflight, open_conns;
	_Atomic uint64_t first_rx_ns, last_rx_ns, last_ack_ns, last_connack_ns;
	struct wmq_bench_hist *lat;    /* end-to-end latency */
	struct wmq_bench_hist *ack;    /* publish -> PUBACK/PUBCOMP */
	struct wmq_bench_hist *hs;     /* connect -> CONNACK */
	struct wmq_bench_err_note first_disconnect;
	struct wmq_bench_err_note first_connect_error;
	int first_pub_error;           /* WMQ_E_* or reason code, 0 = none */
};

/* The whole run. */
struct wmq_bench {
	struct wmq_bench_cfg cfg;
	long npubs, nsubs, nconn;
	uint64_t factor;         /* deliveries per published message */
	struct wmq_bench_worker *w;
	int nw;
	_Atomic int phase;
	/* phase progress, reset by the controller on entering a phase */
	_Atomic uint64_t ph_done;   /* connects finished (ok or failed) / SUBACKs / closes */
	_Atomic uint64_t ph_fail;
	_Atomic uint64_t ph_target; /* CLEANUP: sessions to remove, summed by the workers */
	_Atomic int ph_entered;     /* workers that entered the current phase */
	int sigfd;
	/* controller state (worker 0's thread only) */
	uint64_t t_start_ns, t_phase_ns;
	uint64_t t_run_start, t_run_end, t_backlog_start;
	uint64_t connect_ns_total; /* time spent in connect phases */
	uint64_t connect_ok_total;
	uint64_t churn_connects_before, t_churn_start, t_churn_end;
	uint64_t next_progress_ns, prev_sent, prev_recv, prev_acked, prev_conn;
	uint64_t last_rx_seen, quiet_since_ns;
	bool aborted;
	char abort_reason[160];
	int interrupts;
	/* broker memory (VmRSS, kB), 0 = unknown */
	long rss_before, rss_connected, rss_end, rss_peak;
	/* broker CPU time (user + system, seconds) while the load ran; < 0 = unknown */
	double cpu_start, cpu_end;
};

/* Expand "%n" in |tmpl| with |idx| ("%%" is a literal '%') into |out|.
 * Returns 0, or -1 if it does not fit. */
int wmq_bench_expand(const char *tmpl, uint32_t idx, char *out, size_t cap);

/* ---- hist / util ---- */
uint64_t wmq_bench_now_ns(void);
const char *wmq_bench_phase_name(int phase);
long wmq_bench_rss_kb(long pid);
/* User + system CPU seconds used so far by process |pid|, or -1. */
double wmq_bench_cpu_s(long pid);

/* ---- worker.c ---- */
/* Set up worker |w| (epoll, eventfd, its clients). Returns 0 or -1 with a
 * message on stderr. */
int wmq_bench_worker_init(struct wmq_bench_worker *w);
void wmq_bench_worker_cleanup(struct wmq_bench_worker *w);
/* Run the loop until the phase is DONE. Worker 0 also runs the controller. */
void wmq_bench_worker_run(struct wmq_bench_worker *w);
/* Thread entry for workers 1..n-1. */
void *wmq_bench_worker_thread(void *arg);
/* Wake a worker so it notices a phase change. */
void wmq_bench_worker_wake(struct wmq_bench_worker *w);

/* ---- control.c ---- */
/* One controller step (worker 0 only): phase transitions and progress. */
void wmq_bench_control_tick(struct wmq_bench *b, uint64_t now);
/* Enter |phase| for the whole run. */
void wmq_bench_set_phase(struct wmq_bench *b, int phase, uint64_t now);
/* Stop the run with |why| (goes on with CLOSE). */
void wmq_bench_abort(struct wmq_bench *b, const char *why, uint64_t now);

#endif
