"""nomad/: every job file parses (python-hcl2; Nomad itself cannot be installed here) and keeps
the rules of an edge deployment: architecture constraint, native service discovery with health
checks, host volumes for SQLite, Litestream restoring and replicating, one writer per SQLite file,
secrets from Nomad variables, resources that fit a Raspberry Pi 4 with 2 GB, update/restart/
reschedule policies; the ingress routes exactly as config/nginx.conf does, and the nginx
configuration it renders passes `nginx -t`."""

import re
import subprocess
import textwrap
from pathlib import Path

import hcl2
import pytest
from conftest import ROOT, SERVICES, nginx_argv, substitute, version

NOMAD = ROOT / "nomad"
FILES = sorted(NOMAD.glob("*.nomad.hcl"))
SINGLE_WRITERS = ["auth", "users", "messages", "notifications"]
OPTIONS = hcl2.SerializationOptions(
    with_comments=False, explicit_blocks=False, strip_string_quotes=True, preserve_heredocs=True
)


def load(path: Path) -> dict:
    with open(path) as f:
        return hcl2.load(f, serialization_options=OPTIONS)


def job_of(path: Path) -> tuple[str, dict, dict]:
    """(job name, job body, variable defaults)."""
    doc = load(path)
    jobs = doc["job"]
    assert len(jobs) == 1, f"{path.name}: one job per file"
    [(name, job)] = jobs[0].items()
    variables = {}
    for v in doc.get("variable", []):
        [(vname, spec)] = v.items()
        variables[vname] = spec.get("default")
    return name, job, variables


def blocks(parent: dict, kind: str) -> list[dict]:
    return parent.get(kind, [])


def one(parent: dict, kind: str) -> dict:
    found = blocks(parent, kind)
    assert len(found) == 1, f"expected one {kind} block, found {len(found)}"
    return found[0]


def labelled(parent: dict, kind: str) -> dict[str, dict]:
    """Blocks with a label (group "x" {...}) as {label: body}."""
    return {k: v for b in blocks(parent, kind) for k, v in b.items()}


def heredoc(text: str) -> str:
    """The body of a heredoc string as python-hcl2 keeps it (<<-EOT ... EOT), with the
    indentation that `<<-` strips removed."""
    m = re.match(r"<<(-?)(\w+)\n(.*)\n\s*\2\s*$", text, re.S)
    if not m:
        return text
    return textwrap.dedent(m.group(3)) if m.group(1) else m.group(3)


def nomad_vars(template: str) -> dict[str, str]:
    """{variable path: what the template renders inside `{{ with nomadVar "path" }} ... {{ end }}`}
    (the blocks GoChat's templates use: not nested in one another)."""
    found = {}
    for m in re.finditer(r'\{\{-?\s*with nomadVar "([^"]+)"\s*-?\}\}', template):
        depth, pos = 1, m.end()
        for tag in re.finditer(r"\{\{-?\s*(with|range|if|end)\b[^}]*\}\}", template[pos:]):
            depth += -1 if tag.group(1) == "end" else 1
            if depth == 0:
                found[m.group(1)] = template[pos : pos + tag.start()]
                break
        else:
            raise AssertionError(f"no end of the nomadVar {m.group(1)} block")
    return found


def assert_own_broker_account(svc: str, template: str):
    """The session key from the shared variable nomad/jobs; the broker URL with the service's own
    account (gochat-<svc>, as `gochat rabbitmq-setup` names it), its password from the job's own
    variable nomad/jobs/gochat-<svc>, the broker's address from the catalogue."""
    blocks_of = nomad_vars(template)
    assert set(blocks_of) == {"nomad/jobs", f"nomad/jobs/gochat-{svc}"}, blocks_of
    shared, own = blocks_of["nomad/jobs"], blocks_of[f"nomad/jobs/gochat-{svc}"]
    assert "GOCHAT_JWT_KEY={{ .jwt_key }}" in shared
    assert "amqp" not in shared.lower(), "no broker account in the variable every job reads"
    assert ".amqp_password" in own and 'nomadService "gochat-rabbitmq"' in own
    urls = re.findall(r"^GOCHAT_AMQP_URL=(.*)$", own, re.M)
    assert urls == [f"amqp://gochat-{svc}:{{{{ $password }}}}@{{{{ .Address }}}}:{{{{ .Port }}}}/%2f"], urls
    assert "GOCHAT_AMQP_URL" not in template.replace(own, ""), "the URL only with the own account"


def jobs() -> dict[str, tuple[dict, dict]]:
    out = {}
    for path in FILES:
        name, job, variables = job_of(path)
        assert path.name == f"{name}.nomad.hcl", f"{path.name} holds job {name}"
        out[name] = (job, variables)
    return out


def test_every_job_file_parses_and_the_set_is_complete():
    assert {p.name for p in FILES} == {f"gochat-{s}.nomad.hcl" for s in SERVICES + ["rabbitmq", "ingress"]}
    for path in FILES:
        job_of(path)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_job_is_constrained_to_linux_on_amd64_or_arm64_and_has_policies(path):
    name, job, _ = job_of(path)
    arch = [c for c in blocks(job, "constraint") if c.get("attribute") == "${attr.cpu.arch}"]
    assert arch, f"{name}: no attr.cpu.arch constraint"
    assert set(arch[0]["value"].split(",")) <= {"amd64", "arm64"}
    assert job["type"] == "service"
    update = one(job, "update")
    assert update["max_parallel"] == 1 and update.get("canary", 0) == 0, f"{name}: update {update}"
    for gname, group in labelled(job, "group").items():
        assert blocks(group, "restart") and blocks(group, "reschedule"), f"{name}/{gname}: restart/reschedule"
        for service in blocks(group, "service"):
            assert service["provider"] == "nomad", f"{name}: native service discovery"
            assert blocks(service, "check"), f"{name}: service without a check"
            assert any(blocks(c, "check_restart") for c in blocks(service, "check")), f"{name}: check_restart"


@pytest.mark.parametrize("svc", SERVICES)
def test_service_job_runs_the_static_binary_under_litestream_with_checks_volumes_and_secrets(svc):
    name, job, variables = job_of(NOMAD / f"gochat-{svc}.nomad.hcl")
    group = labelled(job, "group")[svc]
    task = labelled(group, "task")[svc]

    # The static binary of the node's architecture, from a release tarball with a checksum.
    assert task["driver"] == "exec"
    artifact = one(task, "artifact")
    assert "${attr.cpu.arch}" in artifact["source"]
    checksum = one(artifact, "options")["checksum"]
    assert checksum.startswith(("sha256:", "file:")), checksum

    # Litestream restores a missing database, then runs the service and replicates.
    config = one(task, "config")
    args = config["args"]
    assert config["command"].endswith("/bin/litestream")
    assert args[0] == "replicate" and "-restore-if-db-not-exists" in args
    assert args[args.index("-exec") + 1].endswith(f"/bin/gochat {svc}")
    ls_config = args[args.index("-config") + 1]
    assert ls_config.endswith(f"config/litestream/{svc}.yml")
    assert (ROOT / "config" / "litestream" / f"{svc}.yml").exists()

    # Health checks on /healthz and /readyz, discovered natively.
    service = one(group, "service")
    assert service["name"] == f"gochat-{svc}"
    paths = {c["path"] for c in blocks(service, "check") if c["type"] == "http"}
    assert paths == {"/healthz", "/readyz"}

    # SQLite on a host volume, mounted where the service keeps its data.
    volumes = labelled(group, "volume")
    assert volumes["data"]["type"] == "host" and volumes["data"]["source"] == f"gochat-{svc}"
    mounts = {m["volume"]: m["destination"] for m in blocks(task, "volume_mount")}
    env = one(task, "env")
    assert env["GOCHAT_DATA_DIR"].startswith(mounts["data"])
    assert env["GOCHAT_LISTEN"] == "${NOMAD_ADDR_http}"
    assert env["GOCHAT_TRUST_PROXY"] == "true"
    if variables["replica_url"].startswith("file://"):
        assert variables["replica_url"][len("file://"):].startswith(mounts["replicas"])

    # The JWT key and the service's own broker account from Nomad variables, the broker by
    # discovery.
    secrets = [heredoc(t["data"]) for t in blocks(task, "template") if t.get("env") is True]
    assert len(secrets) == 1
    assert_own_broker_account(svc, secrets[0])

    # Room to drain (the service waits up to 10 s for its background tasks).
    assert int(task["kill_timeout"].rstrip("s")) >= 15


@pytest.mark.parametrize("svc", SINGLE_WRITERS)
def test_single_writers_run_exactly_one_instance_and_are_never_replaced_while_disconnected(svc):
    _, job, _ = job_of(NOMAD / f"gochat-{svc}.nomad.hcl")
    group = labelled(job, "group")[svc]
    assert group["count"] == 1
    assert not blocks(group, "scaling"), "a single writer cannot scale"
    assert one(job, "update").get("canary", 0) == 0
    assert one(group, "disconnect")["replace"] is False


def test_chat_scales_out_with_a_file_per_instance():
    _, job, variables = job_of(NOMAD / "gochat-chat.nomad.hcl")
    group = labelled(job, "group")["chat"]
    assert group["count"] == "${var.instances}" and variables["instances"] >= 2
    assert one(group, "scaling")["max"] > 1
    env = one(labelled(group, "task")["chat"], "env")
    assert "${NOMAD_ALLOC_INDEX}" in env["GOCHAT_DATA_DIR"]
    assert "${NOMAD_ALLOC_INDEX}" in env["GOCHAT_LITESTREAM_SLOT"]
    assert "${GOCHAT_LITESTREAM_SLOT}" in (ROOT / "config/litestream/chat.yml").read_text()
    # An index's file has one writer at a time: no canaries, no replacement while disconnected.
    assert one(job, "update").get("canary", 0) == 0
    assert one(group, "disconnect")["replace"] is False


def test_everything_fits_a_raspberry_pi_4_with_2_gb():
    total = 0
    for name, (job, variables) in jobs().items():
        for group in labelled(job, "group").values():
            count = group["count"]
            if isinstance(count, str):
                count = variables[count.removeprefix("${var.").removesuffix("}")]
            for task in labelled(group, "task").values():
                resources = one(task, "resources")
                assert resources["memory"] <= resources.get("memory_max", resources["memory"]) <= 512
                total += count * resources["memory"]
    # The whole cluster could even share one 2 GB Pi with the OS and the Nomad agent.
    assert total <= 1400, f"{total} MB reserved"


def test_notifications_run_one_store_and_gateways_that_scale_out():
    _, job, variables = job_of(NOMAD / "gochat-notifications.nomad.hcl")
    groups = labelled(job, "group")
    store = one(labelled(groups["notifications"], "task")["notifications"], "env")
    assert store["GOCHAT_NOTIFICATIONS_ROLE"] == "store"
    gateway = groups["gateway"]
    assert gateway["count"] == "${var.gateways}" and variables["gateways"] >= 2
    assert one(gateway, "scaling")["max"] > 1
    assert one(gateway, "service")["name"] == "gochat-notifications-gateway"
    task = labelled(gateway, "task")["gateway"]
    assert one(task, "env")["GOCHAT_NOTIFICATIONS_ROLE"] == "gateway"
    assert not blocks(gateway, "volume"), "a gateway keeps nothing worth a volume"
    # The ingress sends the sockets to the gateways and the REST routes to the store.
    template = ingress_template()
    assert "notifications-gateway" in template and "gochat_notifications_gateway" in template


def settings(text: str) -> dict[str, str]:
    """The `key = value` lines of a rabbitmq.conf (or of its template)."""
    return {
        key.strip(): value.strip()
        for key, _, value in (line.partition("=") for line in text.splitlines())
        if _ and not key.strip().startswith(("#", "{{"))
    }


def assert_no_default_account_and_definitions_loaded(conf: dict[str, str], where: str):
    """No account comes from the configuration (RabbitMQ creates default_user, or guest, with
    default_permissions on an empty data directory); the definitions of `gochat rabbitmq-setup`
    are loaded at every start instead, which also stops RabbitMQ creating a default user."""
    for key in conf:
        assert not key.startswith(("default_user", "default_pass", "default_permissions")), f"{where}: {key}"
    assert conf.get("definitions.import_backend") == "local_filesystem", where
    assert conf.get("definitions.local.path", "").endswith(".json"), where
    assert "load_definitions" not in conf, f"{where}: one way of loading definitions"
    assert conf.get("loopback_users.guest") == "true", where


def test_config_rabbitmq_conf_ships_no_account_and_loads_the_definitions_of_rabbitmq_setup():
    text = (ROOT / "config/rabbitmq.conf").read_text()
    conf = settings(text)
    assert_no_default_account_and_definitions_loaded(conf, "config/rabbitmq.conf")
    assert conf["definitions.local.path"] == "/etc/rabbitmq/gochat-definitions.json"
    # Its header says how to make that file, and no password is shipped.
    assert "gochat rabbitmq-setup" in text and "definitions.json" in text
    assert "CHANGE-ME" not in text and "default_pass" not in text


def test_rabbitmq_job_has_a_volume_and_the_settings_of_config_rabbitmq_conf():
    _, job, _ = job_of(NOMAD / "gochat-rabbitmq.nomad.hcl")
    group = labelled(job, "group")["rabbitmq"]
    assert group["count"] == 1 and one(group, "disconnect")["replace"] is False
    assert labelled(group, "volume")["data"]["type"] == "host"
    assert one(group, "service")["name"] == "gochat-rabbitmq"
    task = labelled(group, "task")["rabbitmq"]
    templates = {t["destination"]: t for t in blocks(task, "template")}
    rendered = heredoc(templates["secrets/rabbitmq.conf"]["data"])
    conf = (ROOT / "config/rabbitmq.conf").read_text()
    assert settings(conf).keys() == settings(rendered).keys()
    assert_no_default_account_and_definitions_loaded(settings(rendered), "the rabbitmq job")

    # The definitions come from the broker's own variable (`gochat rabbitmq-setup`'s
    # definitions.json, put there by the operator), rendered where the configuration points.
    assert settings(rendered)["definitions.local.path"] == '{{ env "NOMAD_SECRETS_DIR" }}/definitions.json'
    definitions = templates["secrets/definitions.json"]
    assert nomad_vars(heredoc(definitions["data"])) == {"nomad/jobs/gochat-rabbitmq": "{{ .definitions }}"}
    assert definitions.get("change_mode", "restart") == "restart", "new definitions are loaded"
    assert not any("nomad/jobs\"" in heredoc(t["data"]) for t in templates.values()), "no shared secret"


def test_every_service_has_a_broker_account_of_its_own_and_no_job_shares_one():
    # The accounts `gochat rabbitmq-setup` makes (services/kit/src/bus/accounts.rs): one per
    # service, named gochat-<service>, each the one its job connects with.
    accounts = (ROOT / "services/kit/src/bus/accounts.rs").read_text()
    assert sorted(re.findall(r'^\s*service: "(\w+)",', accounts, re.M)) == sorted(SERVICES)
    assert 'format!("gochat-{}", self.service)' in accounts
    for path in FILES:
        text = path.read_text()
        assert "amqp_user" not in text and "default_user" not in text, path.name
        # A job reads no other job's variable (each one's is readable by that job alone).
        own = f"nomad/jobs/{path.name.removesuffix('.nomad.hcl')}"
        for var in re.findall(r'nomadVar \\?"([^"\\]+)\\?"', text):
            assert var in ("nomad/jobs", own), f"{path.name} reads {var}"
    # The README's setup puts each of those variables.
    readme = (ROOT / "README.md").read_text()
    assert "nomad var put nomad/jobs/gochat-rabbitmq definitions=@" in readme
    assert "for s in auth users messages notifications chat; do" in readme
    assert "nomad var put nomad/jobs/gochat-$s" in readme and "amqp_password=" in readme


# --- the ingress ------------------------------------------------------------------------------


def https_server(text: str) -> str:
    """The `server { ... }` block that terminates TLS."""
    starts = [m.start() for m in re.finditer(r"\n\s*server\s*\{", text)]
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        if "ssl_certificate " in text[start:end]:
            return text[start:end]
    raise AssertionError("no TLS server block")


def routing(server: str) -> tuple[list[str], list[str]]:
    """(location blocks, proxy_set_header and add_header lines), whitespace-normalised."""
    norm = lambda s: " ".join(s.split())
    locations = [norm(m) for m in re.findall(r"location\s+[^{]+\{[^{}]*\}", server)]
    headers = [norm(m) for m in re.findall(r"(?:proxy_set_header|add_header)[^;]+;", server)]
    return locations, headers


def http_level(text: str) -> list[str]:
    """The gzip and map settings of the http block, whitespace-normalised."""
    norm = lambda s: " ".join(s.split())
    return [norm(m) for m in re.findall(r"\n\s*(?:gzip\w*\s[^;]+;|map \$uri [^{]+\{[^}]*\})", text)]


def ingress_template() -> str:
    _, job, _ = job_of(NOMAD / "gochat-ingress.nomad.hcl")
    task = labelled(labelled(job, "group")["nginx"], "task")["nginx"]
    return next(heredoc(t["data"]) for t in blocks(task, "template") if t["destination"] == "local/nginx.conf")


def test_ingress_routes_exactly_as_config_nginx_conf():
    template = ingress_template()
    for svc in SERVICES:
        assert f"gochat_{svc}" in template
    assert 'nomadService (printf "gochat-%s" $service)' in template
    conf = (ROOT / "config/nginx.conf").read_text()
    assert routing(https_server(template)) == routing(https_server(conf))
    assert http_level(template) == http_level(conf) and http_level(conf)


def test_ingress_serves_acme_challenges_and_reloads_renewed_certificates():
    _, job, _ = job_of(NOMAD / "gochat-ingress.nomad.hcl")
    group = labelled(job, "group")["nginx"]
    task = labelled(group, "task")["nginx"]
    # certbot's webroot on the node, mounted where nginx serves /.well-known/acme-challenge/.
    volumes = labelled(group, "volume")
    assert volumes["acme"]["type"] == "host" and volumes["acme"]["source"] == "gochat-acme"
    mounts = {m["volume"]: m["destination"] for m in blocks(task, "volume_mount")}
    assert re.search(rf"location /\.well-known/acme-challenge/ \{{\s*root {re.escape(mounts['acme'])};", ingress_template())
    # The certificate and key come from a Nomad variable; a new one re-renders them and nginx
    # reloads (SIGHUP) without dropping connections.
    templates = {t["destination"]: t for t in blocks(task, "template")}
    for name, perms in [("fullchain.pem", "0644"), ("privkey.pem", "0600")]:
        t = templates[f"secrets/{name}"]
        assert 'nomadVar "nomad/jobs/gochat-ingress"' in heredoc(t["data"])
        assert t["change_mode"] == "signal" and t["change_signal"] == "SIGHUP" and t["perms"] == perms
        assert f'{{{{ env "NOMAD_SECRETS_DIR" }}}}/{name};' in ingress_template()
    hook = (ROOT / "config" / "certbot-deploy-hook.sh").read_text()
    assert "nomad var put" in hook and "nomad/jobs/gochat-ingress" in hook


def test_rendered_ingress_configuration_passes_nginx_t(tmp_path, tls_cert):
    """Renders the template as Nomad would for one instance of each service (the few template
    constructs it uses, substituted by hand) and has Debian's nginx check the result."""
    cert, key = tls_cert
    upstreams = "".join(
        f"    upstream gochat_{svc} {{\n        server 127.0.0.1:{8081 + i};\n        keepalive 8;\n    }}\n"
        for i, svc in enumerate(SERVICES + ["notifications_gateway"])
    )
    text = ingress_template()
    text = re.sub(r"\{\{ range \$service := .*?\n\{\{ end \}\}\n", upstreams, text, flags=re.S)
    text = substitute(
        text,
        [
            ('{{ env "NOMAD_TASK_DIR" }}', str(tmp_path), 6),
            ('{{ env "NOMAD_PORT_http" }}', "18080", 2),
            ('{{ env "NOMAD_PORT_https" }}', "18443", 2),
            ('{{ env "attr.cpu.arch" }}', "amd64", 1),
            ("${var.version}", version(), 1),
            ('{{ env "NOMAD_SECRETS_DIR" }}', str(cert.parent), 2),
        ],
    )
    assert "{{" not in text and "${" not in text, "an unrendered template construct is left"
    (tmp_path / "tmp").mkdir()
    conf = tmp_path / "nginx.conf"
    conf.write_text(text)
    out = subprocess.run(nginx_argv(tmp_path, conf, "-t"), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
