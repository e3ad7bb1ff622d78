#!/bin/sh
# One call from baresip to TARGET through the PBX: 1 s of silence, a spoken message, then # at
# DTMF_AT seconds after dialing (RFC 4733), then wait for callclip's BYE and quit.
# Same baresip settings as the namespace lab (../shared/peers/baresip/config.template).
set -eu
TARGET=${TARGET:-sip:bot@10.77.0.3}
IP=${IP:-10.77.0.4}
DTMF_AT=${DTMF_AT:-8}
CFG=$(mktemp -d)
espeak-ng -s 150 -w "$CFG/speech.wav" "Hello, this is a message left through Kamailio for callclip. Goodbye."
sox -R "$CFG/speech.wav" -r 8000 -c 1 -b 16 "$CFG/mic.wav" pad 1 20
cat >"$CFG/config" <<CONF
poll_method		epoll
sip_listen		$IP:5062
net_interface		$IP
audio_source		aufile,$CFG/mic.wav
audio_player		alsa,null
audio_alert		alsa,null
ausrc_srate		8000
auplay_srate		8000
ausrc_channels		1
auplay_channels		1
rtp_ports		10000-10020
module_path		/usr/lib/baresip/modules
module			stdio.so
module			g711.so
module			aufile.so
module			alsa.so
module_tmp		uuid.so
module_tmp		account.so
module_app		contact.so
module_app		menu.so
CONF
printf '<sip:caller@%s>;audio_codecs=PCMU/8000/1\n' "$IP" >"$CFG/accounts"
: >"$CFG/contacts"
{
	sleep 2
	echo "/dial $TARGET"
	sleep "$DTMF_AT"
	printf '#'
	sleep 8
	echo "/quit"
} | baresip -f "$CFG"
