#!/bin/sh
# certbot --deploy-hook for the Nomad ingress (nomad/gochat-ingress.nomad.hcl): puts a new or
# renewed certificate into the Nomad variable the ingress renders it from; Nomad then rewrites
# the files in the task and nginx reloads with them (no restart, sockets stay open).
#
# On the ingress node, once (certbot serves the challenge from the gochat-acme host volume):
#   sudo certbot certonly --webroot -w /srv/gochat/acme -d chat.example.org \
#       --deploy-hook /opt/gochat/config/certbot-deploy-hook.sh
# certbot's timer renews it and runs this hook again. It needs a Nomad token allowed to write
# nomad/jobs/gochat-ingress (NOMAD_TOKEN, and NOMAD_ADDR if the agent is not local), for
# example in /etc/default/certbot or a systemd drop-in of certbot.service.
set -eu
: "${RENEWED_LINEAGE:?run by certbot as --deploy-hook (RENEWED_LINEAGE is the live certificate directory)}"
exec nomad var put -force nomad/jobs/gochat-ingress \
    fullchain=@"$RENEWED_LINEAGE/fullchain.pem" privkey=@"$RENEWED_LINEAGE/privkey.pem"
