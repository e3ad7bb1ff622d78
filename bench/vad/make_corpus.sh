#!/usr/bin/env bash
# Builds the voice-activity corpus read by `cargo bench -p media --bench vad_corpus`.
#
#   bench/vad/make_corpus.sh OUT_DIR
#   NOISE_SHIFT=5 bench/vad/make_corpus.sh OUT_DIR   # same speech, other noise segments
#
# Each utterance is 4 sentences synthesized separately by espeak-ng, trimmed of their own
# leading/trailing silence, and joined with known pauses (0.3-1.5 s) after 1.0 s of leading
# and before 3.0 s of trailing silence, so the true speech boundaries are known to the sample.
# Utterances are scaled so the speech alone has a given RMS level, then mixed with white noise
# or babble (5 other espeak-ng talkers) at a given SNR against that speech RMS.
#
# Output, per utterance: NAME.wav (mono, 16-bit) and NAME.txt:
#   rate 8000 | level -20 | noise white | snr 10 | voice en-us | speed 130
#   speech START END      (one line per sentence, sample indices, END exclusive)
#
# Conditions: 8 kHz at -10/-20/-30/-40 dBFS, 16 kHz at -20 dBFS; each clean, white and babble at
# 20/10/5 dB SNR; 8 talkers (4 voices x 2 rates) each. sox runs with -R, so the same sox and
# espeak-ng versions give byte-identical files.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
for tool in espeak-ng sox soxi awk; do
    command -v "$tool" >/dev/null || { echo "$0: $tool not found" >&2; exit 3; }
done

out=$1
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/vad-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT

SOX=(sox -R -V1)
LEAD=1.0
TRAIL=3.0
NOISE_REF_DB=-30 # RMS of the stored noise tracks
# Shifts where each utterance's noise is cut from the 40 s tracks: a held-out set for a detector
# tuned on the default one.
NOISE_SHIFT=${NOISE_SHIFT:-0}

SENTENCES=(
    "Please call me back after the meeting today"
    "The delivery will arrive on Thursday morning"
    "I would like to change my appointment"
    "My account number is four five six seven"
    "Thank you for waiting on the line"
    "We need two more boxes of printer paper"
    "The office is closed on public holidays"
    "Send the invoice to the billing department"
    "Our flight was delayed by almost an hour"
    "Tell Sarah the report is ready for review"
    "The parking lot is behind the main building"
    "Can you confirm the address for the order"
    "I left my phone charger in the car"
    "The new schedule starts next Monday"
    "Please press the button to continue"
    "The weather looks fine for the weekend"
)
PAUSES=(0.3 0.5 0.8 1.0 1.5)
# Talker = voice x speaking rate (words per minute).
VOICES=(en-us en-gb en-us+f3 en+m3)
SPEEDS=(130 175)
# Babble talkers: voices not used by the talkers above.
BABBLE_VOICES=(en-gb-scotland en-029+f2 en-us+m7 en-gb-x-rp+f4 en+m1)

rms_db() { # RMS of a file in dBFS (full-scale sine = -3 dB)
    "${SOX[@]}" "$1" -n stat 2>&1 | awk '/^RMS +amplitude/ { print 20 * log($3) / log(10) }'
}
samples() { soxi -s "$1"; }

# Speech from espeak-ng, trimmed where it first/last rises above 0.5% of full scale for 10 ms.
synth_trimmed() { # voice speed text rate out
    espeak-ng -v "$1" -s "$2" -w "$work/raw.wav" "$3"
    "${SOX[@]}" "$work/raw.wav" -b 16 "$5" \
        silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse rate -v "$4"
}

# A noise track of `seconds` at NOISE_REF_DB RMS.
normalize_to_ref() { # in out
    local db
    db=$(rms_db "$1")
    "${SOX[@]}" "$1" "$2" gain "$(awk -v d="$db" -v r=$NOISE_REF_DB 'BEGIN { print r - d }')"
}

make_noise_tracks() { # rate
    local rate=$1
    "${SOX[@]}" -n -r "$rate" -c 1 -b 16 "$work/white_raw.wav" synth 40 whitenoise
    normalize_to_ref "$work/white_raw.wav" "$work/white_$rate.wav"
    local mix=() i=0 text
    for v in "${BABBLE_VOICES[@]}"; do
        text=""
        for k in 0 1 2 3 4 5 6 7; do text+="${SENTENCES[$(((i * 3 + k) % 16))]}. "; done
        espeak-ng -v "$v" -s $((140 + i * 8)) -w "$work/raw.wav" "$text"
        # Each talker starts at a different point and is looped to 40 s.
        "${SOX[@]}" "$work/raw.wav" -b 16 "$work/talker$i.wav" rate -v "$rate" \
            trim $((i * 2)).$((i * 3)) repeat 3 trim 0 40
        mix+=(-v 1 "$work/talker$i.wav")
        i=$((i + 1))
    done
    "${SOX[@]}" -m "${mix[@]}" "$work/babble_raw.wav"
    normalize_to_ref "$work/babble_raw.wav" "$work/babble_$rate.wav"
}

# One utterance at `rate`: writes $work/utt_<u>_<rate>.wav (unscaled), its truth lines and the
# gain to apply for 0 dBFS speech RMS.
make_clean() { # u rate
    local u=$1 rate=$2
    local voice=${VOICES[$((u % 4))]} speed=${SPEEDS[$((u / 4))]}
    local parts=() speech=() truth="" pos j len pause
    "${SOX[@]}" -n -r "$rate" -c 1 -b 16 "$work/lead.wav" trim 0 $LEAD
    "${SOX[@]}" -n -r "$rate" -c 1 -b 16 "$work/trail.wav" trim 0 $TRAIL
    parts+=("$work/lead.wav")
    pos=$(samples "$work/lead.wav")
    for j in 0 1 2 3; do
        local s="$work/s${j}_$rate.wav"
        synth_trimmed "$voice" "$speed" "${SENTENCES[$(((u * 5 + j * 3) % 16))]}" "$rate" "$s"
        len=$(samples "$s")
        truth+="speech $pos $((pos + len))"$'\n'
        pos=$((pos + len))
        parts+=("$s")
        speech+=("$s")
        if [[ $j -lt 3 ]]; then
            pause=${PAUSES[$(((u * 3 + j) % 5))]}
            "${SOX[@]}" -n -r "$rate" -c 1 -b 16 "$work/p$j.wav" trim 0 "$pause"
            pos=$((pos + $(samples "$work/p$j.wav")))
            parts+=("$work/p$j.wav")
        fi
    done
    parts+=("$work/trail.wav")
    "${SOX[@]}" "${parts[@]}" "$work/utt_${u}_$rate.wav"
    "${SOX[@]}" "${speech[@]}" "$work/speech.wav"
    printf 'voice %s\nspeed %s\n%s' "$voice" "$speed" "$truth" >"$work/truth_${u}_$rate.txt"
    rms_db "$work/speech.wav" >"$work/rms_${u}_$rate.txt"
}

write_condition() { # u rate level noise snr
    local u=$1 rate=$2 level=$3 noise=$4 snr=$5
    local tag
    tag=$(printf '%dk_l%d_%s%s_u%d' $((rate / 1000)) "${level#-}" "$noise" "$snr" "$u")
    local src="$work/utt_${u}_$rate.wav" dst="$out/$tag.wav"
    local gain
    gain=$(awk -v l="$level" -v r="$(cat "$work/rms_${u}_$rate.txt")" 'BEGIN { print l - r }')
    if [[ $noise == clean ]]; then
        "${SOX[@]}" "$src" "$dst" gain "$gain"
    else
        local n len offset ngain
        n=$(samples "$src")
        offset=$(((u * 37 + NOISE_SHIFT) % 17))
        # Noise RMS = speech RMS - SNR; the tracks are at NOISE_REF_DB.
        ngain=$(awk -v l="$level" -v s="$snr" -v r=$NOISE_REF_DB 'BEGIN { print 10 ^ ((l - s - r) / 20) }')
        "${SOX[@]}" "$src" "$work/scaled.wav" gain "$gain"
        "${SOX[@]}" "$work/${noise}_$rate.wav" "$work/seg.wav" trim "$offset" "${n}s"
        "${SOX[@]}" -m -v 1 "$work/scaled.wav" -v "$ngain" "$work/seg.wav" "$dst"
    fi
    {
        printf 'rate %s\nlevel %s\nnoise %s\nsnr %s\n' "$rate" "$level" "$noise" "${snr:-inf}"
        cat "$work/truth_${u}_$rate.txt"
    } >"$out/$tag.txt"
}

NOISES=("clean:" white:20 white:10 white:5 babble:20 babble:10 babble:5)
for rate in 8000 16000; do
    make_noise_tracks "$rate"
    if [[ $rate == 8000 ]]; then levels=(-10 -20 -30 -40); else levels=(-20); fi
    for u in 0 1 2 3 4 5 6 7; do
        make_clean "$u" "$rate"
        for level in "${levels[@]}"; do
            for ns in "${NOISES[@]}"; do
                write_condition "$u" "$rate" "$level" "${ns%%:*}" "${ns#*:}"
            done
        done
    done
done
echo "$(find "$out" -name '*.wav' | wc -l) utterances in $out"
