# GoChat's notifications service, in its two roles:
# - group "notifications", the store (/api/notifications*, /api/push/*, Web Push): a single
#   writer of its SQLite file, so exactly one instance, never a second one beside it (no canary;
#   a disconnected node's allocation is not replaced while it may still be running). Litestream
#   restores the file from the replica when it is missing (a new or wiped node), then runs the
#   service as its child and streams every commit to the replica. Its Web Push key (vapid.key)
#   lives beside the file on the host volume.
# - group "gateway" (/ws/notifications, presence): scales out; each instance keeps only a
#   session replica it can rebuild, in its allocation directory.
#
#   nomad job run -var version=0.1.0 -var release_url=http://nas.lan/gochat nomad/gochat-notifications.nomad.hcl
#   nomad job scale gochat-notifications gateway 3
#
# Needs (see README "Several Raspberry Pis with Nomad"): the release tarballs under release_url;
# host volumes "gochat-notifications" and "gochat-replicas" on the node; the Nomad variables
# nomad/jobs (jwt_key) and nomad/jobs/gochat-notifications (amqp_password: the gochat-notifications
# broker account's, made by `gochat rabbitmq-setup`); the gochat-rabbitmq job running.

variable "version" {
  type        = string
  description = "GoChat release to run (the tarballs gochat-<version>-linux-<arch>.tar.gz)."
  default     = "0.1.0"
}

variable "release_url" {
  type        = string
  description = "Where the release tarballs and their .sha256 files are served (no trailing slash)."
  default     = "http://gochat-releases.lan"
}

variable "replica_url" {
  type        = string
  description = "Litestream replica base URL: file:///replicas (the gochat-replicas host volume, e.g. an NFS share), or s3://bucket/gochat."
  default     = "file:///replicas"
}

variable "gateways" {
  type        = number
  description = "Notifications gateways to start with (nomad job scale changes it later)."
  default     = 2
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

job "gochat-notifications" {
  datacenters = var.datacenters
  type        = "service"

  # Static binaries for 64-bit ARM (Raspberry Pi 3/4/5 on a 64-bit OS) and x86_64 only.
  constraint {
    attribute = "${attr.cpu.arch}"
    operator  = "set_contains_any"
    value     = "amd64,arm64"
  }
  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  # One at a time, no canary (a canary would be a second writer of the file); roll back a
  # release whose instance does not become healthy.
  update {
    max_parallel      = 1
    canary            = 0
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "3m"
    progress_deadline = "10m"
    auto_revert       = true
  }

  group "notifications" {
    count = 1

    # A node that drops off the network may still run its instance: do not start a second
    # writer elsewhere; the allocation is marked lost only after lost_after.
    disconnect {
      lost_after = "1h"
      replace    = false
      reconcile  = "keep_original"
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "delay"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    network {
      port "http" {}
    }

    volume "data" {
      type      = "host"
      source    = "gochat-notifications"
      read_only = false
    }

    volume "replicas" {
      type      = "host"
      source    = "gochat-replicas"
      read_only = false
    }

    service {
      name     = "gochat-notifications"
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

      check {
        name     = "ready"
        type     = "http"
        path     = "/readyz"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "notifications" {
      driver = "exec"
      user   = "gochat"

      artifact {
        source      = "${var.release_url}/gochat-${var.version}-linux-${attr.cpu.arch}.tar.gz"
        destination = "local/release"
        options {
          checksum = "file:${var.release_url}/gochat-${var.version}-linux-${attr.cpu.arch}.tar.gz.sha256"
        }
      }

      # Litestream restores a missing database, then runs the service and replicates until it
      # exits; SIGTERM reaches the service through it, so the service drains (kill_timeout).
      config {
        command = "local/release/gochat-${var.version}-linux-${attr.cpu.arch}/bin/litestream"
        args = [
          "replicate",
          "-config", "local/release/gochat-${var.version}-linux-${attr.cpu.arch}/config/litestream/notifications.yml",
          "-restore-if-db-not-exists",
          "-exec", "local/release/gochat-${var.version}-linux-${attr.cpu.arch}/bin/gochat notifications",
        ]
      }

      volume_mount {
        volume      = "data"
        destination = "/var/lib/gochat"
      }

      volume_mount {
        volume      = "replicas"
        destination = "/replicas"
      }

      env {
        GOCHAT_LISTEN             = "${NOMAD_ADDR_http}"
        GOCHAT_DATA_DIR           = "/var/lib/gochat"
        GOCHAT_TRUST_PROXY        = "true"
        GOCHAT_LITESTREAM_REPLICA = var.replica_url
        GOCHAT_NOTIFICATIONS_ROLE = "store"
      }

      # The session key from the Nomad variable nomad/jobs (readable by every job of the namespace),
      # the password of this service's own broker account from nomad/jobs/gochat-notifications
      # (readable by this job only) and the broker's address from Nomad's service catalogue. A
      # change restarts the task.
      template {
        destination = "secrets/gochat.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs" }}
          GOCHAT_JWT_KEY={{ .jwt_key }}
          {{- end }}
          {{- with nomadVar "nomad/jobs/gochat-notifications" }}{{ $password := .amqp_password }}
          {{- range nomadService "gochat-rabbitmq" }}
          GOCHAT_AMQP_URL=amqp://gochat-notifications:{{ $password }}@{{ .Address }}:{{ .Port }}/%2f
          {{- end }}
          {{- end }}
        EOT
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      # Sized for a Raspberry Pi 4 with 2 GB running several GoChat services: the service idles
      # at a few MB; Litestream is the larger part.
      resources {
        cpu        = 200
        memory     = 96
        memory_max = 192
      }
    }
  }

  group "gateway" {
    count = var.gateways

    scaling {
      enabled = true
      min     = 1
      max     = 8
    }

    # Spread the gateways over the nodes, so one node going down closes only its sockets.
    spread {
      attribute = "${node.unique.id}"
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "10s"
      mode     = "delay"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    network {
      port "http" {}
    }

    service {
      name     = "gochat-notifications-gateway"
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

      check {
        name     = "ready"
        type     = "http"
        path     = "/readyz"
        interval = "10s"
        timeout  = "2s"
      }
    }

    task "gateway" {
      driver = "exec"
      user   = "gochat"

      artifact {
        source      = "${var.release_url}/gochat-${var.version}-linux-${attr.cpu.arch}.tar.gz"
        destination = "local/release"
        options {
          checksum = "file:${var.release_url}/gochat-${var.version}-linux-${attr.cpu.arch}.tar.gz.sha256"
        }
      }

      # No Litestream: a gateway's only file is its session replica, rebuilt from auth's ledger
      # when it is missing.
      config {
        command = "local/release/gochat-${var.version}-linux-${attr.cpu.arch}/bin/gochat"
        args    = ["notifications"]
      }

      env {
        GOCHAT_LISTEN             = "${NOMAD_ADDR_http}"
        GOCHAT_DATA_DIR           = "${NOMAD_ALLOC_DIR}/data"
        GOCHAT_TRUST_PROXY        = "true"
        GOCHAT_NOTIFICATIONS_ROLE = "gateway"
      }

      template {
        destination = "secrets/gochat.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs" }}
          GOCHAT_JWT_KEY={{ .jwt_key }}
          {{- end }}
          {{- with nomadVar "nomad/jobs/gochat-notifications" }}{{ $password := .amqp_password }}
          {{- range nomadService "gochat-rabbitmq" }}
          GOCHAT_AMQP_URL=amqp://gochat-notifications:{{ $password }}@{{ .Address }}:{{ .Port }}/%2f
          {{- end }}
          {{- end }}
        EOT
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      # Sockets and presence only: a few MB, plus about 8 KiB per open socket.
      resources {
        cpu        = 200
        memory     = 48
        memory_max = 128
      }
    }
  }
}
