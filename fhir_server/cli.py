"""dmp-fhir serve | seed | token | capability"""

from __future__ import annotations

import argparse
import sys

import orjson

from .config import Settings


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dmp-fhir", description="FHIR R4 server for the French DMP")
    sub = parser.add_subparsers(required=True, metavar="command")

    serve = sub.add_parser("serve", help="start the server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--no-seed", action="store_true", help="do not load seed_data/ on the embedded store")
    serve.add_argument("--workers", type=_positive, default=1,
                       help="server processes sharing the MongoDB database (needs DMP_FHIR_MONGODB_URI)")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"],
                       help="default DMP_FHIR_LOG_LEVEL or info (info: one JSON access-log line per request)")
    serve.set_defaults(run=_serve)

    seed = sub.add_parser("seed", help="load seed_data/ into the configured store")
    seed.add_argument("--patients", type=int, help="instead, generate N consistent synthetic records")
    seed.set_defaults(run=_seed)

    token = sub.add_parser("token", help="print a signed development JWT")
    token.add_argument("--as", dest="sub", required=True, help="e.g. Practitioner/ID, Patient/ID, Device/ID")
    token.add_argument("--mode", default="normal", choices=["normal", "bris_de_glace", "centre_15"])
    token.add_argument("--reason")
    token.add_argument("--scope", help="SMART scopes (default by actor kind, e.g. user/*.cruds)")
    token.add_argument("--organization", help="Organization/ID the professional acts for")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.set_defaults(run=_token)

    capability = sub.add_parser("capability", help="print the CapabilityStatement")
    capability.set_defaults(run=_capability)

    audit = sub.add_parser("audit", help="access traces")
    audit_sub = audit.add_subparsers(required=True, metavar="action")
    verify = audit_sub.add_parser("verify", help="check every trace chain; names the first broken link")
    verify.set_defaults(run=_audit_verify)

    purge = sub.add_parser("purge", help="delete the closed records whose retention has ended (traced)")
    purge.add_argument("--dry-run", action="store_true", help="list what is due, delete nothing")
    purge.set_defaults(run=_purge)

    notify = sub.add_parser("notify", help="send the 14-day notices for documents hidden from their holder")
    notify.set_defaults(run=_notify)
    return parser


# SIGTERM: stop accepting, let in-flight requests finish for at most this long, then close
GRACEFUL_SHUTDOWN_SECONDS = 30
NO_WORKERS_ON_EMBEDDED = ("dmp-fhir serve: --workers needs a MongoDB database (DMP_FHIR_MONGODB_URI): the embedded "
                          "store lives inside one process, so each worker would hold different data")


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {text!r}")
    return int(text)


def _serve(args) -> int:
    import os
    import signal

    import uvicorn

    from .api.http_protocol import H2cOfferIgnoringProtocol
    from .main import configure_logging, create_app, open_store
    from .seeding import load_seed

    if args.log_level:
        os.environ["DMP_FHIR_LOG_LEVEL"] = args.log_level     # read again by each worker process
    settings = Settings()
    if args.workers > 1 and settings.embedded:
        print(NO_WORKERS_ON_EMBEDDED, file=sys.stderr)
        return 2
    store = open_store(settings)
    seeded = 0
    if store.embedded and not args.no_seed:
        seeded = load_seed(store, settings.model_copy(update={"base_url": settings.public_base(args.host, args.port)}))
    _banner(settings, store, seeded, args)
    configure_logging(settings.log_level)
    tune_garbage_collector()
    # httptools, keeping the body of a request that offers `Upgrade: h2c` (api/http_protocol.py)
    options = {"host": args.host, "port": args.port, "log_level": settings.log_level, "access_log": False,
               "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS, "http": H2cOfferIgnoringProtocol}
    # uvicorn finishes in-flight requests on SIGTERM, then raises the signal again with the previous handler:
    # make that one a clean exit (status 0), as an orchestrator expects from a requested stop
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    if args.workers == 1:
        uvicorn.run(create_app(settings, store=store, background_jobs=True), **options)
        return 0
    store.client.close()            # each worker opens its own connection (main.app_from_environment)
    uvicorn.run("fhir_server.main:app_from_environment", factory=True, workers=args.workers, **options)
    return 0


# a request allocates thousands of short-lived objects (documents, index values, the trace): with the default
# threshold (700) the collector runs several times per request and walks the young objects each time
GC_YOUNG_THRESHOLD = 50_000


def tune_garbage_collector() -> None:
    """What is loaded at start (modules, definitions, the seed) is never garbage: keep it out of every collection."""
    import gc

    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def _banner(settings: Settings, store, seeded: int, args) -> None:
    base = settings.public_base(args.host, args.port)
    how = "POST /dev/token or `dmp-fhir token --as Practitioner/ID`" if settings.development_mode \
        else "from your identity provider"
    seed_note = f", {seeded} seed resources" if seeded else ""
    workers = f", {args.workers} worker processes" if args.workers > 1 else ""
    print(f"dmp-fhir: {store.kind} store{seed_note}{workers}; FHIR base {base}; token: {how}", flush=True)


def _seed(args) -> int:
    from .main import open_store
    from .seeding import load_seed

    settings = Settings()
    store = open_store(settings)
    if args.patients:
        from .audit.writer import AuditWriter
        from .synthetic import load_generated, progress_bar
        count = load_generated(store, settings, args.patients, AuditWriter(store), progress_bar())
        print(f"dmp-fhir: {count} generated resources ({args.patients} patients) loaded into the {store.kind} store")
        return 0
    count = load_seed(store, settings)
    print(f"dmp-fhir: {count} seed resources loaded into the {store.kind} store")
    return 0


def _token(args) -> int:
    from .auth.tokens import TokenService
    from .errors import FhirError

    try:
        token = TokenService(Settings()).mint(args.sub, scope=args.scope, mode=args.mode, reason=args.reason,
                                              organization=args.organization, ttl_seconds=args.ttl)
    except FhirError as e:
        print(f"dmp-fhir token: {e.diagnostics}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _audit_verify(args) -> int:
    from .audit.writer import verify
    from .main import open_store

    store = open_store(Settings())
    checked, broken = verify(store)
    for link in broken:
        print(f"BROKEN {link}")
    print(f"dmp-fhir audit verify: {checked} traces checked, {len(broken)} broken chain(s) ({store.kind} store)")
    return 1 if broken else 0


def _purge(args) -> int:
    from .audit.writer import AuditWriter
    from .main import open_store
    from .services.purge import due_records, purge
    from .storage.mongo import now_ms

    settings = Settings()
    store = open_store(settings)
    if args.dry_run:
        due = due_records(store, now_ms())
        print("\n".join(f"due: Patient/{pid}" for pid in due) or "nothing due")
        return 0
    purged = purge(store, settings, AuditWriter(store), now_ms())
    for pid, count in purged.items():
        print(f"purged Patient/{pid}: {count} resources")
    print(f"dmp-fhir purge: {len(purged)} record(s) purged ({store.kind} store)")
    return 0


def _notify(args) -> int:
    from .main import open_store
    from .services.notifications import notify_hidden_documents, notify_lapsed_documents
    from .storage.mongo import now_ms

    settings = Settings()
    store, now = open_store(settings), now_ms()
    sent = notify_hidden_documents(store, settings, now) + notify_lapsed_documents(store, settings, now)
    print(f"dmp-fhir notify: {sent} notice(s) sent")
    return 0


def _capability(args) -> int:
    from .capability import capability_statement

    sys.stdout.write(orjson.dumps(capability_statement(), option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
