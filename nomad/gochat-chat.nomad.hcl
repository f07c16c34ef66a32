# GoChat's chat service (/ws/chat): the chat sockets. It scales out: every instance has its own
# fan-out queue on RabbitMQ, and nginx spreads the sockets over the instances.
#
# Every instance keeps a small SQLite file of its own (the outbox of accepted messages and the
# conversation members it learned from events), in a directory named after its allocation index
# on the node's "gochat-chat" host volume, replicated by Litestream to a replica of the same
# index. Two allocations of one index must never run at once (they would write one file): no
# canaries, and a disconnected node's allocation is not replaced while it may still run.
#
#   nomad job run -var version=0.1.0 -var release_url=http://nas.lan/gochat -var instances=2 nomad/gochat-chat.nomad.hcl
#   nomad job scale gochat-chat chat 3
#
# Needs (see README "Several Raspberry Pis with Nomad"): the release tarballs under release_url;
# host volumes "gochat-chat" and "gochat-replicas" on the nodes; the Nomad variables nomad/jobs
# (jwt_key) and nomad/jobs/gochat-chat (amqp_password: the gochat-chat broker account's, made by
# `gochat rabbitmq-setup`); the gochat-rabbitmq job running.

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

variable "instances" {
  type        = number
  description = "Chat instances to start with (nomad job scale changes it later)."
  default     = 2
}

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

job "gochat-chat" {
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

  # One at a time, no canary (a canary would share its index, so its file, with the instance it
  # replaces); roll back a release whose instances do not become healthy.
  update {
    max_parallel      = 1
    canary            = 0
    health_check      = "checks"
    min_healthy_time  = "10s"
    healthy_deadline  = "3m"
    progress_deadline = "10m"
    auto_revert       = true
  }

  group "chat" {
    count = var.instances

    scaling {
      enabled = true
      min     = 1
      max     = 8
    }

    # Spread the instances over the nodes, so one node going down closes only its sockets.
    spread {
      attribute = "${node.unique.id}"
    }

    # A node that drops off the network may still run its instances: do not start a second
    # writer of their files elsewhere; the allocations are marked lost only after lost_after.
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
      source    = "gochat-chat"
      read_only = false
    }

    volume "replicas" {
      type      = "host"
      source    = "gochat-replicas"
      read_only = false
    }

    service {
      name     = "gochat-chat"
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

    task "chat" {
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
          "-config", "local/release/gochat-${var.version}-linux-${attr.cpu.arch}/config/litestream/chat.yml",
          "-restore-if-db-not-exists",
          "-exec", "local/release/gochat-${var.version}-linux-${attr.cpu.arch}/bin/gochat chat",
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
        GOCHAT_DATA_DIR           = "/var/lib/gochat/chat-${NOMAD_ALLOC_INDEX}"
        GOCHAT_TRUST_PROXY        = "true"
        GOCHAT_LITESTREAM_REPLICA = var.replica_url
        GOCHAT_LITESTREAM_SLOT    = "-${NOMAD_ALLOC_INDEX}"
      }

      # The session key from the Nomad variable nomad/jobs (readable by every job of the namespace),
      # the password of this service's own broker account from nomad/jobs/gochat-chat (readable by
      # this job only) and the broker's address from Nomad's service catalogue. A change restarts
      # the task.
      template {
        destination = "secrets/gochat.env"
        env         = true
        change_mode = "restart"
        data        = <<-EOT
          {{- with nomadVar "nomad/jobs" }}
          GOCHAT_JWT_KEY={{ .jwt_key }}
          {{- end }}
          {{- with nomadVar "nomad/jobs/gochat-chat" }}{{ $password := .amqp_password }}
          {{- range nomadService "gochat-rabbitmq" }}
          GOCHAT_AMQP_URL=amqp://gochat-chat:{{ $password }}@{{ .Address }}:{{ .Port }}/%2f
          {{- end }}
          {{- end }}
        EOT
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "20s"

      # Sized for a Raspberry Pi 4 with 2 GB running several GoChat services: the service idles
      # at a few MB; Litestream is the larger part.
      resources {
        cpu        = 300
        memory     = 96
        memory_max = 192
      }
    }
  }
}
