#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 / Python 3.11 machine, in steps that
# each say what they do and how long they took:
#
#   system packages   the sandbox backends and debootstrap (root with apt only)
#   python            .venv with deepcode-tui and its core dependencies (wheels)
#   embedded model    llama-cpp-python: compiles llama.cpp, only the library its
#                     server loads, and only when this command may use the
#                     embedded model (no --model/--replay, no model configured)
#   sandbox rootfs    the Debian tree the sandboxes run in (debootstrap), built
#                     in the background while llama.cpp compiles
#
#   bootstrap.sh [run|test] [deepcode-tui arguments]
#
# `run` (scripts/deepcode) installs what that command needs; `test` (scripts/test)
# adds the dev extra and the embedded model. DEEPCODE_EXTRAS=a,b installs exactly
# those extras. Re-runs are fast: a stamp records what was installed for which
# pyproject.toml, and the rootfs keeps its own ready marker.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
caller_dir="$PWD"  # the command's configuration (deepcode.toml) is found from here
cd "$root"
purpose="${1:-run}"
[[ $# -gt 0 ]] && shift

t_start=$SECONDS
clock() { local s=$((SECONDS - t_start)); printf '%d:%02d' $((s / 60)) $((s % 60)); }
log() { printf '[bootstrap %s] %s\n' "$(clock)" "$*" >&2; }
took() { local s=$(($1)); ((s >= 60)) && printf '%d min %02d s' $((s / 60)) $((s % 60)) || printf '%d s' "$s"; }
# CPU seconds of the finished child processes, in $cpu: on a shared machine wall time says
# little. `times` must run in this shell (in a $(...) subshell it sees no children).
cpu=0
cpu_now() {
  local f
  f="$(mktemp)"
  times >"$f"
  cpu=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); n += a[1] * 60 + a[2] } printf "%d", n }' "$f")
  rm -f "$f"
}
step_t=0 step_cpu=0
other_cpu=0 # CPU of background steps reaped meanwhile, not this step's
begin() { step_t=$SECONDS other_cpu=0; cpu_now; step_cpu=$cpu; log "$*"; }
finish() { cpu_now; log "$1: done in $(took $((SECONDS - step_t))) (CPU $(took $((cpu - step_cpu - other_cpu))))"; }

venv_py=.venv/bin/python
stamp=.venv/.bootstrap-stamp
pyhash="pyproject=$(sha256sum pyproject.toml | cut -d' ' -f1)"
declare -A have=()
stamp_ok=false
# The embedded model's build recipe (the flags below): bump it when they change, so a
# venv built with the old flags rebuilds llama.cpp, and a wheel built with them is not reused.
llama_recipe=llama2-noamx
if [[ -x $venv_py && -f $stamp && "$(sed -n 1p "$stamp")" == "$pyhash" ]]; then
  stamp_ok=true
  for e in $(sed -n 2p "$stamp" | sed 's/^extras=//; s/,/ /g'); do have[$e]=1; done
  [[ "$(sed -n 4p "$stamp")" == "llama=$llama_recipe" ]] || unset 'have[local]'
fi
rootfs_path=""
[[ -f $stamp ]] && rootfs_path="$(sed -n 3p "$stamp" | sed 's/^rootfs=//')"
rootfs_settled() { # built (its ready marker is there), or a prebuild failed: the first verification retries
  [[ $rootfs_path == failed || ( -n $rootfs_path && -f "$rootfs_path/.deepcode-rootfs-ready" ) ]]
}
can_build_rootfs() { [[ $(id -u) -eq 0 ]] && command -v debootstrap >/dev/null; }

# --- system packages -------------------------------------------------------------
# Missing ones are installed when we may (as root); otherwise the app falls back with a
# notice. Not uidmap or slirp4netns: only rootless podman uses them, and as root it never runs.
sys_pkgs=(podman runc bubblewrap debootstrap)
missing=()
for p in "${sys_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

wanted_extras() { # the extras this invocation needs (needs the core install for the model check)
  if [[ -n ${DEEPCODE_EXTRAS+x} ]]; then echo "${DEEPCODE_EXTRAS//,/ }"; return; fi
  if [[ $purpose == test ]]; then echo "dev local"; return; fi
  if (cd "$caller_dir" && "$root/$venv_py" -c 'import sys; from deepcode_tui.llm.embedded import embedded_needed
sys.exit(0 if embedded_needed(sys.argv[1:]) else 1)' "$@" 2>/dev/null); then
    echo local
  fi
}

# Fast path: nothing missing, nothing new to install, rootfs in place (or not buildable here).
if $stamp_ok && ((${#missing[@]} == 0)) && { rootfs_settled || ! can_build_rootfs; }; then
  need_more=false
  if [[ $purpose != run || -z ${have[local]:-} || -n ${DEEPCODE_EXTRAS+x} ]]; then
    for e in $(wanted_extras "$@"); do [[ -n ${have[$e]:-} ]] || need_more=true; done
  fi
  $need_more || exit 0
fi

log "setting up deepcode-tui for \`$purpose\` (once per machine; later commands skip what is done)"

apt_pid=""
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    mkdir -p .venv
    log "system packages: installing ${missing[*]} (in the background)"
    apt_t=$SECONDS
    (
      apt-get update -qq || echo "apt-get update failed; trying the cached lists"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    ) >.venv/apt.log 2>&1 &
    apt_pid=$!
  else
    log "system packages: not root or no apt-get, skipping ${missing[*]}; sandboxing may be weaker"
  fi
fi
wait_apt() {
  [[ -n $apt_pid ]] || return 0
  if wait "$apt_pid"; then
    log "system packages: done in $(took $((SECONDS - apt_t)))"
  else
    log "system packages: could not install ${missing[*]} (see .venv/apt.log); sandbox backends that need them will be skipped"
  fi
  apt_pid=""
}

# --- python environment ------------------------------------------------------------
py="${PYTHON:-python3}"
if ! $stamp_ok; then
  begin "python: creating .venv and installing deepcode-tui with its core dependencies"
  [[ -x $venv_py ]] || "$py" -m venv .venv
  "$venv_py" -m pip install -q --upgrade pip >.venv/pip.log 2>&1 || log "could not upgrade pip; continuing with the bundled one"
  core=""
  [[ $purpose == test || ",${DEEPCODE_EXTRAS:-}," == *,dev,* ]] && core="[dev]"
  if ! "$venv_py" -m pip install -q -e ".$core" >>.venv/pip.log 2>&1; then
    wait_apt
    log "pip install failed; the last lines of .venv/pip.log:"
    tail -n 20 .venv/pip.log >&2
    exit 1
  fi
  [[ -n $core ]] && have[dev]=1
  have[core]=1
  printf '%s\nextras=%s\n' "$pyhash" "$(IFS=,; echo "${!have[*]}")" >"$stamp"
  finish "python"
fi
wait_apt

# --- sandbox rootfs (background) ---------------------------------------------------
rootfs_pid=""
if ! rootfs_settled && can_build_rootfs; then
  log "sandbox rootfs: building the Debian tree with debootstrap in the background (log: .venv/rootfs.log)"
  rootfs_t=$SECONDS
  "$venv_py" -c 'from deepcode_tui.verify.sandbox.rootfs import main; raise SystemExit(main())' \
    >.venv/rootfs.log 2>&1 &
  rootfs_pid=$!
fi
rootfs_check() { # $1 = wait: block until it ends
  [[ -n $rootfs_pid ]] || return 0
  if [[ ${1:-} != wait ]] && kill -0 "$rootfs_pid" 2>/dev/null; then return 0; fi
  local ok=true c0
  cpu_now
  c0=$cpu
  wait "$rootfs_pid" || ok=false
  cpu_now
  other_cpu=$((other_cpu + cpu - c0))
  if $ok; then
    log "sandbox rootfs: done in $(took $((SECONDS - rootfs_t))) (CPU $(took $((cpu - c0)))) ($(tail -n 1 .venv/rootfs.log))"
    rootfs_path="$(tail -n 1 .venv/rootfs.log)"
  else
    log "sandbox rootfs: not built: $(tail -n 1 .venv/rootfs.log); the first verification will retry"
    rootfs_path=failed
  fi
  rootfs_pid=""
}

# --- extras: the embedded model (llama.cpp compile) and dev tools ---------------------
todo=()
for e in $(wanted_extras "$@"); do [[ -n ${have[$e]:-} ]] || todo+=("$e"); done
if ((${#todo[@]})); then
  reqs=()
  mapfile -t reqs < <("$venv_py" - "${todo[@]}" <<'EOF'
import sys
from importlib.metadata import requires
from packaging.requirements import Requirement

for line in requires("deepcode-tui") or []:
    req = Requirement(line)
    if req.marker and any(req.marker.evaluate({"extra": e}) for e in sys.argv[1:]) \
            and not req.marker.evaluate({"extra": ""}):
        req.marker = None
        print(req)
EOF
  )
  if [[ " ${todo[*]} " == *" local "* ]]; then
    label="embedded model: compiling llama.cpp for llama-cpp-python (once, a few minutes; log: .venv/llama-build.log)"
  else
    label="extras: installing ${todo[*]}"
  fi
  begin "$label"
  # Only what the embedded server loads: libllama and ggml. Not the multimodal
  # library (LLAVA_BUILD) nor llama.cpp's common library, which llama-cpp-python
  # builds by default but never loads: about 60% of the compile. The top-level
  # install rules (install/local) copy exactly those libraries into the wheel.
  export SKBUILD_BUILD_TARGETS="${SKBUILD_BUILD_TARGETS:-llama}"
  export SKBUILD_INSTALL_TARGETS="${SKBUILD_INSTALL_TARGETS:-install/local}"
  defines="LLAVA_BUILD=OFF;CMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON"
  # No AMX kernels: llama.cpp builds with -march=native, and on CPUs with AMX (Sapphire
  # Rapids and later, common in cloud VMs) its AMX matmul segfaulted on the first token
  # (ggml_backend_amx_mul_mat). They only pay for large int8 models; explicit -mno-amx-*
  # flags win over -march=native whatever their order. x86_64 only: other compilers'
  # targets do not know the flags.
  if [[ $(uname -m) == x86_64 ]]; then
    noamx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
    defines+=";CMAKE_C_FLAGS=$noamx;CMAKE_CXX_FLAGS=$noamx"
  fi
  export SKBUILD_CMAKE_DEFINE="${SKBUILD_CMAKE_DEFINE:-$defines}"
  build_log=.venv/llama-build.log
  install_reqs() {
    local llama_req wheels
    llama_req="$(printf '%s\n' "${reqs[@]}" | grep -m1 '^llama-cpp-python' || true)"
    if [[ -n $llama_req ]]; then
      # Build the wheel into a cache of our own, keyed by the recipe: pip's wheel cache keys
      # a built wheel by its sdist only, so it would hand back one built with other flags.
      wheels="${XDG_CACHE_HOME:-$HOME/.cache}/deepcode-tui/wheels/$llama_recipe"
      mkdir -p "$wheels"
      "$venv_py" -m pip wheel -v --no-cache-dir --no-deps --find-links "$wheels" -w "$wheels" "$llama_req" || return 1
      # A build of another recipe may be installed: "already satisfied" would keep it.
      "$venv_py" -m pip uninstall -y -q llama-cpp-python 2>/dev/null || true
      "$venv_py" -m pip install --find-links "$wheels" "${reqs[@]}"
    else
      "$venv_py" -m pip install -v "${reqs[@]}"
    fi
  }
  install_reqs >"$build_log" 2>&1 &
  pip_pid=$!
  last_shown="" last_t=$SECONDS
  while kill -0 "$pip_pid" 2>/dev/null; do
    sleep 2
    rootfs_check
    # ninja's "[12/70] Building CXX object ..." lines are the compile's own progress.
    now="$(grep -aoE '\[[0-9]+/[0-9]+\]' "$build_log" 2>/dev/null | tail -n 1 || true)"
    if [[ -n $now && $now != "$last_shown" && $now != */1] && $((SECONDS - last_t)) -ge 10 ]]; then
      IFS=/ read -r done_n total_n <<<"${now//[\[\]]/}"
      log "embedded model: compiled ${done_n} of ${total_n} files ($((100 * done_n / total_n))%)"
      last_shown=$now last_t=$SECONDS
    elif [[ -z $now && $((SECONDS - last_t)) -ge 30 ]]; then
      log "embedded model: $(grep -aE 'Downloading|Building wheel|Collecting' "$build_log" | tail -n 1 | cut -c1-100)"
      last_t=$SECONDS
    fi
  done
  if ! wait "$pip_pid"; then
    rootfs_check wait
    log "installing ${todo[*]} failed; the last lines of $build_log:"
    tail -n 20 "$build_log" >&2
    exit 1
  fi
  if [[ " ${todo[*]} " == *" local "* ]]; then
    # One token from the real model: a build that imports can still crash in its kernels.
    if ! "$venv_py" -m deepcode_tui.llm.embedded_check >>"$build_log" 2>&1; then
      log "the embedded model does not run after its build (last lines of $build_log):"
      tail -n 5 "$build_log" >&2
      exit 1
    fi
  fi
  for e in "${todo[@]}"; do have[$e]=1; done
  finish "${label%%:*}"
fi

if [[ -n $rootfs_pid ]]; then
  log "sandbox rootfs: waiting for debootstrap to finish"
  rootfs_check wait
fi
"$venv_py" -c "import deepcode_tui.cli" || { log "install failed: deepcode_tui does not import"; exit 1; }
printf '%s\nextras=%s\nrootfs=%s\nllama=%s\n' "$pyhash" "$(IFS=,; echo "${!have[*]}")" "${rootfs_path:-}" \
  "$llama_recipe" >"$stamp"
cpu_now
log "set-up complete in $(took $((SECONDS - t_start))) (CPU $(took "$cpu") on $(nproc) cores)"
