"""Default values of every fraudwall setting, documented where they are defined.

Settings are layered: these defaults < a TOML config file < ``FRAUDWALL_*``
environment variables < command-line options. Names are upper case; the
environment variable for ``DB_PATH`` is ``FRAUDWALL_DB_PATH``.
"""

# Log level of fraudwall and Scrapy (the CLI's -v/-vv raise it to INFO/DEBUG).
LOG_LEVEL = "WARNING"

# Where findings, verdicts and observations are stored.
DB_PATH = "fraudwall.db"

# Plugins: extra plugin files to load (``--plugin``), and the time budget in
# seconds for one hook call of one plugin; a plugin over budget is interrupted,
# logged and counted, and the other plugins still run.
PLUGIN_FILES: list[str] = []
PLUGIN_TIMEOUT = 5.0
# Names of plugins not to load, e.g. ["url_heuristics"].
PLUGINS_DISABLED: list[str] = []

# Rules as data. RULES_DIRS (``--rules DIR``): directories of YAML rule files
# (*.yaml, *.yml, searched recursively), loaded after the bundled rules; a rule
# with a bundled rule's id replaces it. YARA_DIRS (``--yara DIR``): directories
# of YARA files (*.yar, *.yara) scanned over page bodies. A file that fails to
# load is logged with its name and reason, and the others are still used.
RULES_DIRS: list[str] = []
YARA_DIRS: list[str] = []

# Scoring: a subject whose combined score reaches these thresholds is
# malicious (published) or suspicious (stored for review, not published).
SCORE_MALICIOUS = 0.75
SCORE_SUSPICIOUS = 0.40

# Crawling.
CRAWL_DEPTH = 2  # links followed from a seed, within its registered domain
CRAWL_MAX_PAGES = 500  # per run (a distributed job: all its workers together); 0 means no cap
CRAWL_MAX_PAGES_PER_DOMAIN = 200  # pages kept per registered domain; 0 means no cap (a link maze ends here)
CRAWL_MAX_BYTES_PER_DOMAIN = 200 * 1024 * 1024  # bytes downloaded per registered domain; 0 means no cap
CRAWL_MAX_LINKS_PER_PAGE = 1000  # links of one page followed (all are kept as evidence); 0 means no cap
CRAWL_MAX_OUTBOUND_PER_PAGE = 20  # of those, links of each kind followed one hop off the seed's domain (stores, downloads...); 0: no cap
CRAWL_MAX_CERTIFICATE_DOMAINS = 20  # an https page's certificate naming up to this many other registered domains has them fetched one hop; more is a shared one (a CDN's); 0: never
CRAWL_TIMEOUT = 20.0  # seconds per request, all of it: a body that drips or headers that never end stop here
CRAWL_DNS_TIMEOUT = 10.0  # seconds per name lookup
CRAWL_MAX_HOST_FAILURES = 10  # failed attempts in a row (timeouts, refused connections...) after which a host is given up; 0: never
CRAWL_MAX_REDIRECTS = 10  # hops per request; a loop or a longer chain is a counted failure
CRAWL_MAX_HEAD_BYTES = 256 * 1024  # per response head (status line, headers, interim 1xx heads), as browsers cap it
CRAWL_MAX_BYTES = 10 * 1024 * 1024  # per page body, after decompression (a bomb stops here)
CRAWL_MAX_APK_BYTES = 100 * 1024 * 1024  # per APK download, after decompression
# A User-Agent of your own for everything the crawl schedules; empty: the android profile's, with the rest
# of that browser's headers (fraudwall/crawler/profiles.py). Set, it replaces the User-Agent and drops the
# Chrome client hints, which would contradict it.
CRAWL_USER_AGENT = ""
CRAWL_CONCURRENCY = 16
CRAWL_CONCURRENCY_PER_DOMAIN = 8  # of those, requests to one registered domain (all its host names together)
CRAWL_IDLE_CONNECTIONS = 128  # keep-alive connections kept open between requests, over all hosts (0: none)
CRAWL_IDLE_CONNECTION_TIMEOUT = 15.0  # seconds an idle keep-alive connection is kept open
# Client profiles each seed is fetched as (fraudwall/crawler/profiles.py: desktop, iphone, android,
# wechat): first as android, then, once the host answered, as the others. A seed that shows them
# materially different pages is recorded as cloaking and every variant is judged; alike, android's
# variant stands for all. One profile: seeds are fetched once, as it. Links are followed as android
# (as the first of the list when android is not in it).
CRAWL_PROFILES: list[str] = ["desktop", "iphone", "android", "wechat"]
# Crawl progress on stderr: "auto" (a live panel on a terminal, plain lines otherwise), "live", "log", "off".
CRAWL_PROGRESS = "auto"
CRAWL_PROGRESS_LOG_SECONDS = 10.0  # seconds between plain progress lines
# Resumable crawls (``crawl --job NAME``): the job's frontier, duplicate filter and journal live in
# CRAWL_JOBS_DIR/NAME; run the same command again to resume after a stop, a crash or a SIGKILL.
CRAWL_JOB = ""
CRAWL_JOBS_DIR = "fraudwall-jobs"
# Many machines (``crawl --redis``, ``worker``, ``ingest``): the Redis server that holds the shared
# frontier, duplicate filter and outbox; workers exit once the job has had nothing queued or in flight
# for DISTRIBUTED_IDLE_SECONDS (0: never); a worker that has not renewed its lease for
# DISTRIBUTED_LEASE_SECONDS is taken for dead and its requests go back to the queue.
REDIS_URL = ""
DISTRIBUTED_IDLE_SECONDS = 30.0
DISTRIBUTED_LEASE_SECONDS = 30.0
# Networks the crawler may connect to. Empty means "public addresses only":
# loopback, private, link-local and reserved ranges are refused (SSRF guard).
# Each CIDR listed here is allowed in addition.
ALLOW_NETS: list[str] = []
# Fixed name -> address answers, like curl's --resolve: {"shop.example": "127.0.0.1"}.
HOST_MAP: dict[str, str] = {}
# When true, names missing from HOST_MAP fail instead of going to the system resolver.
HOST_MAP_ONLY = False

# Rendering JavaScript pages (the optional "render" extra: pip install 'fraudwall[render]' and Debian's
# chromium). "off"; "shells": pages whose static HTML is an empty app shell, and pages a detector asks
# for; "always": every HTML page; "auto": "shells" when the extra and the browser are installed, else
# "off". A rendered page is stored beside the static one, fetched_as "rendered".
CRAWL_RENDER = "auto"
CRAWL_RENDER_BROWSER = "/usr/bin/chromium"  # never a downloaded browser
CRAWL_RENDER_PAGES = 2  # browser pages at once; each is a renderer process of 50-150 MB
CRAWL_RENDER_WAIT = 2.0  # seconds after load for the page's network to go quiet
CRAWL_RENDER_MAX_BYTES = 20 * 1024 * 1024  # all responses of one rendered page together

# Export.
EXPORT_TITLE = "fraudwall blocklist"
# Processes rendering an export folder's formats side by side (``--workers``); 0: one per
# CPU, at most four. Each worker adds about 0.2 GB for a list of two million names.
EXPORT_WORKERS = 0
# Most bytes read from one ``--input`` list, after decompression (256 MiB, six times
# a national list of two million names). Reading stops there and counts one
# ``input-too-large`` rejection; what was read before is kept. A compressed list
# expanding more than 100 times stops as ``compression-bomb``, and a file with a
# million rejected lines and fewer accepted as ``mostly-rejected``.
LIST_MAX_BYTES = 256 * 1024 * 1024
# Your allowlists, on top of the bundled one (fraudwall/data/allowlist.toml and
# every protected brand's official domains): .toml files in the bundled schema,
# or plain lists of names. Allowlisted names and everything below them are never
# published; a fraud page on an allowlisted host is published by URL only.
ALLOWLIST_FILES: list[str] = []
# Publishing guard against collapse: an export is refused (exit code 5, the previous list kept)
# when its list would lose more than this share of the previous generation's entries, would be
# empty where the previous one was not, or comes from inputs that yielded only rejections.
# ``--allow-shrink`` publishes it all the same.
PUBLISH_MAX_SHRINK = 0.5

# Judging: worker processes that run the detectors during a crawl, so downloads never wait on
# them; 0 means one per CPU (at most eight). Each worker loads every plugin once at start.
JUDGE_WORKERS = 0
# The workers' niceness (0-19): the crawl's reactor must not wait for a core (its timeouts run on the
# wall clock, and its downloads feed the workers), so they take the CPU it leaves. Judging cannot fall
# far behind: Scrapy stops fetching while too many pages wait in the pipelines.
JUDGE_NICE = 19

# APK analysis (``fraudwall analyze apk``): each APK is read in a worker process capped at
# APK_MEMORY_MB of address space and APK_TIMEOUT seconds, past which it is a counted rejection;
# APK_WORKERS 0 means one per CPU.
APK_WORKERS = 0
APK_TIMEOUT = 60.0
APK_MEMORY_MB = 2048
# Brand files (the schema of fraudwall/data/brands.toml) merged over the bundled brands for the APK
# detectors: record a brand's app packages and signing certificates here (the SHA-256 that
# ``apksigner verify --print-certs`` prints for its store APK), and an app on its package signed by
# any other key is a repackaged fake, while its real app is never flagged.
APK_BRAND_FILES: list[str] = []

# DNS probes (``fraudwall probe``, ``permute --registered``, ``recheck``): the resolvers to ask
# (HOST or HOST:PORT; empty means the system's, from /etc/resolv.conf), each try's timeout in
# seconds, extra tries after it (with backoff), queries in flight per resolver, and queries per
# second per resolver (0: no limit; be gentle with resolvers that are not yours).
DNS_NAMESERVERS: list[str] = []
DNS_TIMEOUT = 2.0
DNS_RETRIES = 2
DNS_CONCURRENCY = 500
DNS_RATE = 0.0

# Re-checks (``fraudwall recheck``): a live or unknown name is probed again RECHECK_HOURS after
# its last probe; a gone or never-live name after RECHECK_GONE_HOURS; a failed probe (SERVFAIL,
# TIMEOUT, REFUSED) is retried after RECHECK_RETRY_HOURS.
RECHECK_HOURS = 24.0
RECHECK_GONE_HOURS = 168.0
RECHECK_RETRY_HOURS = 1.0
