# The ingress: nginx on ports 80 and 443 of one node, the only way in from the LAN. It serves
# the web client from the release tarball and routes by path to the services, whose addresses it
# takes from Nomad's service catalogue: when an instance starts or stops, the template below is
# rendered again and nginx reloads (SIGHUP) without dropping open sockets.
#
# The site is config/nginx.conf's (same routes, headers and timeouts), with upstreams rendered
# from nomadService and the paths of the task directory.
#
#   nomad job run -var version=0.1.0 -var release_url=http://nas.lan/gochat nomad/gochat-ingress.nomad.hcl
#
# Needs: Debian's nginx on the ingress node (apt install nginx; systemctl disable --now nginx);
# net.ipv4.ip_unprivileged_port_start=80 there (nginx runs as an unprivileged user); the host
# volume "gochat-acme" (certbot's webroot); the certificate in the Nomad variable
# nomad/jobs/gochat-ingress (fullchain, privkey); node meta gochat_ingress = "true".

variable "version" {
  type        = string
  description = "GoChat release whose web client is served."
  default     = "0.1.0"
}

variable "release_url" {
  type        = string
  description = "Where the release tarballs and their .sha256 files are served (no trailing slash)."
  default     = "http://gochat-releases.lan"
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

job "gochat-ingress" {
  datacenters = var.datacenters
  type        = "service"

  constraint {
    attribute = "${attr.cpu.arch}"
    operator  = "set_contains_any"
    value     = "amd64,arm64"
  }
  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }
  # The node your router forwards ports 80 and 443 to.
  constraint {
    attribute = "${meta.gochat_ingress}"
    value     = "true"
  }

  update {
    max_parallel     = 1
    canary           = 0
    health_check     = "checks"
    min_healthy_time = "10s"
    healthy_deadline = "3m"
    auto_revert      = true
  }

  group "nginx" {
    count = 1

    restart {
      attempts = 5
      interval = "5m"
      delay    = "5s"
      mode     = "delay"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "5m"
      unlimited      = true
    }

    network {
      port "http" {
        static = 80
      }
      port "https" {
        static = 443
      }
    }

    # The ACME webroot: certbot on the node writes its challenge files there (certbot
    # --webroot -w /srv/gochat/acme), nginx serves them from inside its chroot.
    volume "acme" {
      type      = "host"
      source    = "gochat-acme"
      read_only = true
    }

    service {
      name     = "gochat-ingress"
      provider = "nomad"
      port     = "http"

      check {
        name     = "alive"
        type     = "http"
        path     = "/healthz"
        interval = "10s"
        timeout  = "2s"

        check_restart {
          limit = 3
          grace = "30s"
        }
      }
    }

    task "nginx" {
      driver = "exec"
      user   = "www-data"

      # The web client of the release.
      artifact {
        source      = "${var.release_url}/gochat-${var.version}-linux-${attr.cpu.arch}.tar.gz"
        destination = "local/release"
        options {
          checksum = "file:${var.release_url}/gochat-${var.version}-linux-${attr.cpu.arch}.tar.gz.sha256"
        }
      }

      config {
        command = "/usr/sbin/nginx"
        args = [
          "-p", "${NOMAD_TASK_DIR}",
          "-c", "${NOMAD_TASK_DIR}/nginx.conf",
          "-e", "stderr",
          "-g", "daemon off; pid ${NOMAD_TASK_DIR}/nginx.pid;",
        ]
      }

      volume_mount {
        volume      = "acme"
        destination = "/var/www/acme"
      }

      # The certificate and key, from the Nomad variable nomad/jobs/gochat-ingress (certbot's
      # deploy hook, config/certbot-deploy-hook.sh, puts renewed ones there). When they change the
      # files are rendered again and nginx reloads (SIGHUP) with the new certificate, keeping
      # open connections.
      template {
        destination   = "secrets/fullchain.pem"
        perms         = "0644"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = "{{ with nomadVar \"nomad/jobs/gochat-ingress\" }}{{ .fullchain }}{{ end }}"
      }
      template {
        destination   = "secrets/privkey.pem"
        perms         = "0600"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = "{{ with nomadVar \"nomad/jobs/gochat-ingress\" }}{{ .privkey }}{{ end }}"
      }

      template {
        destination   = "local/nginx.conf"
        change_mode   = "signal"
        change_signal = "SIGHUP"
        data          = <<-EOT
          worker_processes auto;
          events {
              worker_connections 4096;
          }
          http {
              include /etc/nginx/mime.types;
              default_type application/octet-stream;
              sendfile on;
              tcp_nopush on;
              server_tokens off;
              access_log off;
              client_max_body_size 64k;

              # How long browsers keep a response: the client's hashed assets never change; everything else
              # of the client (index.html, a service worker) is revalidated; API answers set their own.
              map $uri $gochat_cache_control {
                  ~^/assets/  "public, max-age=31536000, immutable";
                  ~^/(api|ws)/ "";
                  default     "no-cache";
              }

              # The client build writes a .gz copy of every compressible file (gzip_static sends it); the
              # rest of the client is compressed on the fly. API answers are not: compressing secrets next to
              # attacker-chosen text over TLS leaks them (BREACH).
              gzip_vary on;
              gzip_min_length 1024;
              gzip_types text/css application/javascript text/javascript image/svg+xml application/manifest+json;
              client_body_temp_path {{ env "NOMAD_TASK_DIR" }}/tmp/body;
              proxy_temp_path {{ env "NOMAD_TASK_DIR" }}/tmp/proxy;
              fastcgi_temp_path {{ env "NOMAD_TASK_DIR" }}/tmp/fastcgi;
              uwsgi_temp_path {{ env "NOMAD_TASK_DIR" }}/tmp/uwsgi;
              scgi_temp_path {{ env "NOMAD_TASK_DIR" }}/tmp/scgi;

              map $http_upgrade $connection_upgrade {
                  default upgrade;
                  ''      '';
              }
          {{ range $service := split "," "auth,users,messages,chat,notifications,notifications-gateway" }}
              upstream gochat_{{ $service | replaceAll "-" "_" }} {
              {{- range nomadService (printf "gochat-%s" $service) }}
                  server {{ .Address }}:{{ .Port }};
              {{- else }}
                  # No instance registered yet: answer 502 until one is.
                  server 127.0.0.1:9 down;
              {{- end }}
                  keepalive 8;
              }
          {{ end }}
              server {
                  listen {{ env "NOMAD_PORT_http" }};
                  listen [::]:{{ env "NOMAD_PORT_http" }};
                  server_name _;

                  location = /healthz {
                      access_log off;
                      default_type text/plain;
                      return 200 "ok\n";
                  }
                  location /.well-known/acme-challenge/ {
                      root /var/www/acme;
                  }
                  location / {
                      return 308 https://$host$request_uri;
                  }
              }

              server {
                  listen {{ env "NOMAD_PORT_https" }} ssl http2;
                  listen [::]:{{ env "NOMAD_PORT_https" }} ssl http2;
                  server_name _;

                  ssl_certificate {{ env "NOMAD_SECRETS_DIR" }}/fullchain.pem;
                  ssl_certificate_key {{ env "NOMAD_SECRETS_DIR" }}/privkey.pem;
                  ssl_protocols TLSv1.2 TLSv1.3;
                  ssl_session_cache shared:gochat_tls:10m;
                  ssl_session_timeout 1d;

                  # Every response, API and client alike (set here only: a block with add_header of its own
                  # would drop these): HTTPS only, and a Content-Security-Policy that allows only what the
                  # client uses (its own scripts, styles, API and WebSockets; data:/blob: images for upload
                  # previews; its own service worker and manifest), no framing, no MIME sniffing.
                  add_header Strict-Transport-Security "max-age=31536000" always;
                  add_header Content-Security-Policy "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'" always;
                  add_header X-Frame-Options DENY always;
                  add_header X-Content-Type-Options nosniff always;
                  add_header Referrer-Policy same-origin always;
                  add_header Cross-Origin-Opener-Policy same-origin always;
                  add_header Cache-Control $gochat_cache_control;

                  root {{ env "NOMAD_TASK_DIR" }}/release/gochat-${var.version}-linux-{{ env "attr.cpu.arch" }}/client/dist;

                  proxy_http_version 1.1;
                  proxy_set_header Host $http_host;
                  proxy_set_header X-Forwarded-Host $http_host;
                  proxy_set_header X-Forwarded-Proto $scheme;
                  proxy_set_header X-Forwarded-For $remote_addr;
                  proxy_set_header Upgrade $http_upgrade;
                  proxy_set_header Connection $connection_upgrade;
                  proxy_connect_timeout 5s;

                  location /api/auth/ {
                      proxy_pass http://gochat_auth;
                  }
                  location /api/admin/ {
                      proxy_pass http://gochat_auth;
                  }
                  location /api/users {
                      proxy_pass http://gochat_users;
                  }
                  location /api/conversations {
                      proxy_pass http://gochat_messages;
                  }
                  # Search and blocking are the messages service's too (blocking under /api/users/).
                  location = /api/search {
                      proxy_pass http://gochat_messages;
                  }
                  location = /api/users/blocked {
                      proxy_pass http://gochat_messages;
                  }
                  location ~ ^/api/users/[^/]+/block$ {
                      proxy_pass http://gochat_messages;
                  }
                  location /api/attachments {
                      proxy_pass http://gochat_messages;
                      client_max_body_size 26m;
                      proxy_request_buffering off;
                      proxy_buffering off;
                  }
                  location /api/notifications {
                      proxy_pass http://gochat_notifications;
                  }
                  location /api/push/ {
                      proxy_pass http://gochat_notifications;
                  }
                  location = /ws/chat {
                      proxy_pass http://gochat_chat;
                      proxy_read_timeout 1h;
                      proxy_send_timeout 1h;
                      proxy_buffering off;
                  }
                  location = /ws/notifications {
                      proxy_pass http://gochat_notifications_gateway;
                      proxy_read_timeout 1h;
                      proxy_send_timeout 1h;
                      proxy_buffering off;
                  }
                  location /api/ {
                      default_type application/json;
                      return 404 '{"error":{"code":"not_found","message":"no such route"}}';
                  }
                  location /ws/ {
                      default_type application/json;
                      return 404 '{"error":{"code":"not_found","message":"no such route"}}';
                  }
                  # A missing asset is a 404, never index.html (an old tab must not run HTML as script).
                  location /assets/ {
                      gzip_static on;
                      try_files $uri =404;
                  }
                  location / {
                      gzip_static on;
                      gzip on;
                      try_files $uri /index.html;
                  }
              }
          }
        EOT
      }

      # The temp directories nginx writes request bodies to.
      template {
        destination = "local/tmp/.keep"
        data        = ""
      }

      kill_signal  = "SIGQUIT"
      kill_timeout = "30s"

      resources {
        cpu        = 200
        memory     = 64
        memory_max = 128
      }
    }
  }
}
