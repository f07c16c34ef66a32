# RabbitMQ for GoChat: the event bus every service connects to (found through Nomad's service
# catalogue as "gochat-rabbitmq"). One node; durable queues and messages live on the
# "gochat-rabbitmq" host volume.
#
# Runs Debian's RabbitMQ from the node (apt install rabbitmq-server; `systemctl disable --now
# rabbitmq-server` so only this job runs it) with config/rabbitmq.conf's settings. No default
# account: its accounts (one per service, least privilege) and GoChat's exchanges and shared
# queues come from the definitions of `gochat rabbitmq-setup`, kept in the Nomad variable
# nomad/jobs/gochat-rabbitmq (readable by this job only) and loaded at every start; each service
# job reads its own account's password from nomad/jobs/gochat-<service> (README "Several
# Raspberry Pis with Nomad", step 4):
#
#   gochat rabbitmq-setup ~/gochat-broker --broker broker.lan:5672
#   nomad var put nomad/jobs/gochat-rabbitmq definitions=@$HOME/gochat-broker/definitions.json
#   nomad job run nomad/gochat-rabbitmq.nomad.hcl

variable "datacenters" {
  type    = list(string)
  default = ["*"]
}

job "gochat-rabbitmq" {
  datacenters = var.datacenters
  type        = "service"

  # Debian ships RabbitMQ for arm64 and amd64 alike.
  constraint {
    attribute = "${attr.cpu.arch}"
    operator  = "set_contains_any"
    value     = "amd64,arm64"
  }
  constraint {
    attribute = "${attr.kernel.name}"
    value     = "linux"
  }

  # A broker node owns its data directory: never two of them on it.
  update {
    max_parallel     = 1
    canary           = 0
    health_check     = "checks"
    min_healthy_time = "10s"
    healthy_deadline = "5m"
    auto_revert      = true
  }

  group "rabbitmq" {
    count = 1

    disconnect {
      lost_after = "1h"
      replace    = false
      reconcile  = "keep_original"
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "delay"
    }

    reschedule {
      delay          = "30s"
      delay_function = "exponential"
      max_delay      = "10m"
      unlimited      = true
    }

    network {
      port "amqp" {
        static = 5672
      }
    }

    volume "data" {
      type      = "host"
      source    = "gochat-rabbitmq"
      read_only = false
    }

    service {
      name     = "gochat-rabbitmq"
      provider = "nomad"
      port     = "amqp"

      check {
        name     = "amqp"
        type     = "tcp"
        interval = "10s"
        timeout  = "2s"

        check_restart {
          limit = 3
          grace = "90s"
        }
      }
    }

    task "rabbitmq" {
      driver = "exec"
      user   = "rabbitmq"

      # The upstream start script (Debian's /usr/sbin wrapper would switch users itself).
      config {
        command = "/usr/lib/rabbitmq/bin/rabbitmq-server"
      }

      volume_mount {
        volume      = "data"
        destination = "/var/lib/gochat-rabbitmq"
      }

      env {
        HOME                          = "/var/lib/gochat-rabbitmq"
        RABBITMQ_NODENAME             = "gochat@localhost"
        RABBITMQ_USE_LONGNAME         = "false"
        RABBITMQ_MNESIA_BASE          = "/var/lib/gochat-rabbitmq/mnesia"
        RABBITMQ_LOG_BASE             = "${NOMAD_ALLOC_DIR}/logs"
        RABBITMQ_CONFIG_FILE          = "${NOMAD_SECRETS_DIR}/rabbitmq.conf"
        RABBITMQ_ENABLED_PLUGINS_FILE = "${NOMAD_TASK_DIR}/enabled_plugins"
        RABBITMQ_CONF_ENV_FILE        = "${NOMAD_TASK_DIR}/rabbitmq-env.conf"
      }

      # No plugins: the management UI costs memory a Pi would rather spend on queues.
      template {
        destination = "local/enabled_plugins"
        data        = "[].\n"
      }

      template {
        destination = "local/rabbitmq-env.conf"
        data        = "# settings come from the environment of the task\n"
      }

      # The definitions of `gochat rabbitmq-setup` (accounts with their password hashes,
      # permissions, exchanges, shared queues, bindings), from the Nomad variable; a new version
      # of it restarts the broker, which loads them again.
      template {
        destination = "secrets/definitions.json"
        change_mode = "restart"
        data        = "{{ with nomadVar \"nomad/jobs/gochat-rabbitmq\" }}{{ .definitions }}{{ end }}"
      }

      # config/rabbitmq.conf, with the listener on the allocated port and the definitions from
      # the template above. The node creates no default user (no guest) when it loads them.
      template {
        destination = "secrets/rabbitmq.conf"
        change_mode = "restart"
        data        = <<-EOT
          definitions.import_backend = local_filesystem
          definitions.local.path = {{ env "NOMAD_SECRETS_DIR" }}/definitions.json
          listeners.tcp.default = {{ env "NOMAD_PORT_amqp" }}
          loopback_users.guest = true
          heartbeat = 30
          vm_memory_high_watermark.absolute = 256MiB
          disk_free_limit.absolute = 1GB
          collect_statistics_interval = 30000
          log.console = true
          log.console.level = info
          log.file = false
        EOT
      }

      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      resources {
        cpu        = 500
        memory     = 384
        memory_max = 512
      }
    }
  }
}
