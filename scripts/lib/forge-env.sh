# shellcheck shell=bash
#
# forge-env.sh: a private forge on this machine, for scripts/demo and bench/ls-remote-overhead.
#
# Source it from a bash script that runs with `set -euo pipefail`. It starts, as the current user
# and with all state in one folder:
#
#   forged   --config STATE/forge.toml         (log: STATE/forged.log)
#   sshd     on 127.0.0.1:<free port>          (log: STATE/sshd.log), authorized_keys written by
#            `forgectl keys sync`, host key generated here
#
# and writes STATE/ssh_config for the client side (`ssh -F STATE/ssh_config HOST`,
# `GIT_SSH_COMMAND="ssh -F STATE/ssh_config"`). Nothing outside STATE is touched, except that
# root may install missing Debian packages and creates /run/sshd, which sshd needs as root.
#
# Typical use:
#
#   source scripts/lib/forge-env.sh
#   forge_env_init "$state_dir" "$root/target/debug"  # paths, checks, empty state folder
#   trap forge_env_stop EXIT
#   forge_env_require_packages
#   forge_env_write_config
#   forge_env_start_forged
#   forge_env_ctl user add alice
#   forge_env_keygen "$FORGE_ENV_STATE/keys/alice" alice
#   ...
#   forge_env_sync_keys
#   forge_env_start_sshd
#   forge_env_add_ssh_host my-alias "$FORGE_ENV_STATE/keys/alice"
#
# Everything that can fail says what failed on stderr, prefixed with $FORGE_ENV_PROG, and exits 1.

# The root of the forge working tree: this file is scripts/lib/forge-env.sh.
FORGE_ENV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)"

# The name messages are prefixed with; scripts set it before sourcing or after.
: "${FORGE_ENV_PROG:=$(basename "$0")}"

# The Debian packages the scripts need.
FORGE_ENV_PACKAGES=(openssh-server openssh-client git)

# How long forged and sshd get to come up, in seconds.
FORGE_ENV_START_TIMEOUT=20

# Filled in by the functions below.
FORGE_ENV_STATE=""        # the state folder (absolute)
FORGE_ENV_BIN=""          # the folder holding forged, forge-shell, forge-hook and forgectl
FORGE_ENV_CONFIG=""       # STATE/forge.toml
FORGE_ENV_USER=""         # the login account: the current user
FORGE_ENV_SSH_CONFIG=""   # STATE/ssh_config, the client configuration
FORGE_ENV_AUTHORIZED_KEYS=""  # STATE/authorized_keys, read by sshd
FORGE_ENV_SSHD_PORT=""    # the port sshd listens on, 127.0.0.1 only
FORGED_PID=""             # forged, once started
SSHD_PID=""               # sshd, once started
FORGE_ENV_SPAWNED_PID=""  # the last process forge_env_spawn started
FORGE_ENV_MASTERS=()      # ssh_config hosts with a ControlMaster, closed by forge_env_stop
FORGE_ENV_STOPPED=""      # set once forge_env_stop has run

# Set by a script before forge_env_start_sshd: the HOME of SSH sessions instead of the account's
# own, so that the account's ~/.bashrc (which bash reads even for `ssh host command`) is not
# run on every git operation. The bench sets it; the demo keeps the real HOME.
: "${FORGE_ENV_SESSION_HOME:=}"

# --- messages -------------------------------------------------------------------------------

# Prints a line on stderr.
forge_env_say() {
    printf '%s: %s\n' "$FORGE_ENV_PROG" "$*" >&2
}

# Prints an error line on stderr and exits 1 (the EXIT trap, if any, cleans up).
forge_env_die() {
    printf '%s: error: %s\n' "$FORGE_ENV_PROG" "$*" >&2
    exit 1
}

# Prints the last lines of a log file on stderr, indented, to explain a failure.
forge_env_show_log() {
    local file="$1"
    [[ -s "$file" ]] || return 0
    printf '%s: last lines of %s:\n' "$FORGE_ENV_PROG" "$file" >&2
    tail -n 20 "$file" | sed 's/^/    /' >&2
}

# --- set-up -----------------------------------------------------------------------------------

# forge_env_init STATE BIN [keep]
# Sets the paths for state folder STATE and the binaries in BIN, checks them, and makes STATE an
# empty folder (mode 700). STATE is wiped if it exists, unless the third argument is "keep":
# then what it holds (database, repositories, keys, logs) is kept and only the client's
# ssh_config, which names the last run's port, is started anew.
forge_env_init() {
    local state="$1" bin="$2" keep="${3:-}"
    [[ "$state" == /* ]] || state="$PWD/$state"
    FORGE_ENV_USER="$(id -un)"
    FORGE_ENV_BIN="$(cd "$bin" && pwd -P)" || forge_env_die "no binaries folder $bin; build first"
    if [[ "$keep" == keep ]]; then
        rm -f -- "$state/ssh_config"
    else
        rm -rf -- "$state"
    fi
    mkdir -p -- "$state"
    chmod 700 -- "$state"
    FORGE_ENV_STATE="$(cd "$state" && pwd -P)"
    FORGE_ENV_CONFIG="$FORGE_ENV_STATE/forge.toml"
    FORGE_ENV_SSH_CONFIG="$FORGE_ENV_STATE/ssh_config"
    FORGE_ENV_AUTHORIZED_KEYS="$FORGE_ENV_STATE/authorized_keys"
    # These paths end up in authorized_keys forced commands, which sshd runs through a shell:
    # forge refuses any that would need quoting, so say so here, clearly, before anything runs.
    forge_env_check_path "$FORGE_ENV_STATE" "the state folder"
    forge_env_check_path "$FORGE_ENV_BIN" "the binaries folder"
    forge_env_check_path "$FORGE_ENV_ROOT/hooks" "the hooks folder"
    # A Unix socket path holds at most 107 bytes.
    if (( ${#FORGE_ENV_STATE} > 90 )); then
        forge_env_die "$FORGE_ENV_STATE is too long a path for forged's socket; use a shorter one"
    fi
    local binary
    for binary in forged forge-shell forge-hook forgectl; do
        [[ -x "$FORGE_ENV_BIN/$binary" ]] || forge_env_die "$FORGE_ENV_BIN/$binary is missing; build first"
    done
    return 0
}

# forge_env_check_path PATH WHAT
# Dies unless PATH is absolute and made only of the characters forge allows in authorized_keys.
forge_env_check_path() {
    local path="$1" what="$2"
    if [[ ! "$path" =~ ^/[A-Za-z0-9._/+-]*$ ]]; then
        forge_env_die "$what ($path) must be an absolute path of letters, digits and . _ / + - only, since forge writes it into authorized_keys; run from such a folder"
    fi
}

# Installs the missing packages of FORGE_ENV_PACKAGES when root (apt-get update first, and only
# when something is missing); otherwise names them and exits 1.
forge_env_require_packages() {
    local missing=() package
    if command -v dpkg-query >/dev/null 2>&1; then
        for package in "${FORGE_ENV_PACKAGES[@]}"; do
            if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
                missing+=("$package")
            fi
        done
    else
        # Not Debian: judge by the programs instead.
        [[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
        if ! command -v ssh >/dev/null 2>&1 || ! command -v ssh-keygen >/dev/null 2>&1; then
            missing+=(openssh-client)
        fi
        command -v git >/dev/null 2>&1 || missing+=(git)
    fi
    (( ${#missing[@]} == 0 )) && return 0
    if (( EUID != 0 )); then
        forge_env_die "missing packages: ${missing[*]}; install them first: sudo apt-get install ${missing[*]}"
    fi
    forge_env_say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Prints a TCP port on 127.0.0.1 that nothing listens on right now. (Another process may take it
# before sshd does; forge_env_start_sshd tries again with a new port then.)
forge_env_free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
        return
    fi
    local port tries
    for (( tries = 0; tries < 100; tries++ )); do
        port=$(( 20000 + RANDOM % 40000 ))
        # A refused connection means no one listens there.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    forge_env_die "found no free port on 127.0.0.1"
}

# forge_env_keygen FILE COMMENT
# Makes an ed25519 key pair FILE and FILE.pub with no passphrase.
forge_env_keygen() {
    local file="$1" comment="$2"
    mkdir -p -- "$(dirname "$file")"
    chmod 700 -- "$(dirname "$file")"
    ssh-keygen -q -t ed25519 -N '' -C "$comment" -f "$file"
}

# forge_env_spawn LOG COMMAND...
# Starts COMMAND in the background with stdin from /dev/null and stdout and stderr appended to
# LOG; sets FORGE_ENV_SPAWNED_PID. It gets a process group of its own (job control is on for
# that one `&`), so a Ctrl-C at the terminal reaches only the script, whose trap then stops
# everything in order, rather than forged and sshd each on their own.
forge_env_spawn() {
    local log="$1" job_control=""
    shift
    [[ $- == *m* ]] && job_control=1
    set -m
    "$@" </dev/null >>"$log" 2>&1 &
    FORGE_ENV_SPAWNED_PID=$!
    [[ -n "$job_control" ]] || set +m
}

# --- forged -----------------------------------------------------------------------------------

# forge_env_fill TEMPLATE OUTPUT NAME=VALUE...
# Writes TEMPLATE (a file under tests/fixtures/, which the Rust tests fill too) to OUTPUT with
# each @NAME@ replaced by VALUE; dies if a placeholder is left unfilled.
forge_env_fill() {
    local template="$FORGE_ENV_ROOT/tests/fixtures/$1" output="$2" text pair
    shift 2
    text="$(<"$template")" || forge_env_die "cannot read $template"
    for pair in "$@"; do
        # The quotes keep an & in VALUE literal (bash 5.2's patsub_replacement).
        text="${text//"@${pair%%=*}@"/"${pair#*=}"}"
    done
    if [[ "$text" =~ @[A-Z_]+@ ]]; then
        forge_env_die "$template: ${BASH_REMATCH[0]} left unfilled"
    fi
    printf '%s\n' "$text" >"$output"
}

# Writes STATE/forge.toml from tests/fixtures/forge.toml.in: everything under STATE, the
# current user as git account and admin. FORGE_ENV_ALLOW_LOCAL_PUSH (true or false, default
# false) sets allow_local_push.
forge_env_write_config() {
    forge_env_fill forge.toml.in "$FORGE_ENV_CONFIG" \
        "WRITER=$FORGE_ENV_PROG" \
        "STATE=$FORGE_ENV_STATE" \
        "USER=$FORGE_ENV_USER" \
        "BIN=$FORGE_ENV_BIN" \
        "HOOKS=$FORGE_ENV_ROOT/hooks" \
        "ALLOW_LOCAL_PUSH=${FORGE_ENV_ALLOW_LOCAL_PUSH:-false}" \
        "LOG=info"
}

# forge_env_ctl ARGS...
# Runs forgectl with this environment's configuration.
forge_env_ctl() {
    "$FORGE_ENV_BIN/forgectl" --config "$FORGE_ENV_CONFIG" "$@"
}

# Starts forged in the background (log: STATE/forged.log) and waits until it answers.
forge_env_start_forged() {
    # NO_COLOR: forged would otherwise write ANSI colour codes into the log file.
    forge_env_spawn "$FORGE_ENV_STATE/forged.log" \
        env NO_COLOR=1 "$FORGE_ENV_BIN/forged" --config "$FORGE_ENV_CONFIG"
    FORGED_PID="$FORGE_ENV_SPAWNED_PID"
    echo "$FORGED_PID" >"$FORGE_ENV_STATE/forged.pid"
    forge_env_wait_forged
}

# Waits until `forgectl status` succeeds; dies if forged exits or the deadline passes.
forge_env_wait_forged() {
    local deadline=$(( SECONDS + FORGE_ENV_START_TIMEOUT ))
    until forge_env_ctl status >/dev/null 2>&1; do
        if ! kill -0 "$FORGED_PID" 2>/dev/null; then
            forge_env_show_log "$FORGE_ENV_STATE/forged.log"
            FORGED_PID=""
            forge_env_die "forged exited at start-up (log: $FORGE_ENV_STATE/forged.log)"
        fi
        if (( SECONDS >= deadline )); then
            forge_env_show_log "$FORGE_ENV_STATE/forged.log"
            forge_env_die "forged did not answer within ${FORGE_ENV_START_TIMEOUT}s (log: $FORGE_ENV_STATE/forged.log)"
        fi
        sleep 0.05
    done
}

# Writes STATE/authorized_keys from forged's keys (`forgectl keys sync`); lines that are not
# forge's, such as a plain key a script added, are kept.
forge_env_sync_keys() {
    forge_env_ctl keys sync --file "$FORGE_ENV_AUTHORIZED_KEYS" >/dev/null
}

# --- sshd -------------------------------------------------------------------------------------

# Writes STATE/sshd_config from tests/fixtures/sshd_config.in, for a private sshd on
# 127.0.0.1:FORGE_ENV_SSHD_PORT that lets only the current user in, only with the keys in
# STATE/authorized_keys.
forge_env_write_sshd_config() {
    local first=""
    if [[ -n "$FORGE_ENV_SESSION_HOME" ]]; then
        first="# Sessions get this HOME, so the login shell reads no start-up files of the account.
SetEnv HOME=$FORGE_ENV_SESSION_HOME"
    fi
    forge_env_fill sshd_config.in "$FORGE_ENV_STATE/sshd_config" \
        "WRITER=$FORGE_ENV_PROG" \
        "FIRST=$first" \
        "PORT=$FORGE_ENV_SSHD_PORT" \
        "HOST_KEY=$FORGE_ENV_STATE/ssh_host_ed25519_key" \
        "PID_FILE=$FORGE_ENV_STATE/sshd.pid" \
        "AUTHORIZED_KEYS=$FORGE_ENV_AUTHORIZED_KEYS" \
        "USER=$FORGE_ENV_USER" \
        "LOG_LEVEL=INFO"
}

# Makes the host key, finds a free port, writes STATE/sshd_config, starts sshd (log:
# STATE/sshd.log) and waits until it accepts connections. Tries a few ports, in case another
# process takes the free one first.
forge_env_start_sshd() {
    [[ -f "$FORGE_ENV_STATE/ssh_host_ed25519_key" ]] \
        || ssh-keygen -q -t ed25519 -N '' -C "forge-env host key" -f "$FORGE_ENV_STATE/ssh_host_ed25519_key"
    [[ -f "$FORGE_ENV_AUTHORIZED_KEYS" ]] || : >"$FORGE_ENV_AUTHORIZED_KEYS"
    # As root, sshd needs its privilege separation folder.
    if (( EUID == 0 )); then
        mkdir -p /run/sshd
    fi
    local attempt
    for attempt in 1 2 3 4 5; do
        FORGE_ENV_SSHD_PORT="$(forge_env_free_port)"
        forge_env_write_sshd_config
        /usr/sbin/sshd -t -f "$FORGE_ENV_STATE/sshd_config" \
            || forge_env_die "sshd refuses $FORGE_ENV_STATE/sshd_config"
        # -D: stay in the foreground (so the pid is sshd's); -e -E: log to the file. Anything
        # sshd prints before its log is set up goes to the same file.
        forge_env_spawn "$FORGE_ENV_STATE/sshd.log" \
            /usr/sbin/sshd -D -e -f "$FORGE_ENV_STATE/sshd_config" -E "$FORGE_ENV_STATE/sshd.log"
        SSHD_PID="$FORGE_ENV_SPAWNED_PID"
        if forge_env_wait_sshd; then
            return 0
        fi
        forge_env_say "sshd did not start on port $FORGE_ENV_SSHD_PORT (attempt $attempt); trying another port"
        forge_env_stop_pid "$SSHD_PID" sshd
        SSHD_PID=""
    done
    forge_env_show_log "$FORGE_ENV_STATE/sshd.log"
    forge_env_die "sshd did not start (log: $FORGE_ENV_STATE/sshd.log)"
}

# Returns 0 once sshd accepts a TCP connection on its port, 1 if it exits or the deadline passes.
forge_env_wait_sshd() {
    local deadline=$(( SECONDS + FORGE_ENV_START_TIMEOUT ))
    while (( SECONDS < deadline )); do
        kill -0 "$SSHD_PID" 2>/dev/null || return 1
        if (exec 3<>"/dev/tcp/127.0.0.1/$FORGE_ENV_SSHD_PORT") 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

# forge_env_add_ssh_host ALIAS IDENTITY [OPTION...]
# Appends a Host block to STATE/ssh_config: ALIAS logs in to the private sshd as the current
# user with IDENTITY only. Each OPTION ("ControlMaster auto", say) is added as a line; a host with
# a ControlMaster is remembered, so that forge_env_stop closes it.
forge_env_add_ssh_host() {
    local alias="$1" identity="$2" option
    shift 2
    {
        echo "Host $alias"
        echo "    HostName 127.0.0.1"
        echo "    Port $FORGE_ENV_SSHD_PORT"
        echo "    User $FORGE_ENV_USER"
        echo "    IdentityFile $identity"
        echo "    IdentitiesOnly yes"
        echo "    StrictHostKeyChecking no"
        echo "    UserKnownHostsFile /dev/null"
        echo "    BatchMode yes"
        echo "    LogLevel ERROR"
        for option in "$@"; do
            echo "    $option"
            [[ "$option" == "ControlMaster "* && "$option" != "ControlMaster no" ]] \
                && FORGE_ENV_MASTERS+=("$alias")
        done
        echo
    } >>"$FORGE_ENV_SSH_CONFIG"
}

# --- stopping ---------------------------------------------------------------------------------

# forge_env_stop_pid PID NAME
# Sends SIGTERM to PID (a child of this shell), waits up to 5 s, then SIGKILL. Quiet if gone.
forge_env_stop_pid() {
    local pid="$1" name="$2" waited
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for (( waited = 0; waited < 100; waited++ )); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        forge_env_say "$name (pid $pid) ignored SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# forge_env_descendants PID: prints the pids of every process below PID, each before its own
# children.
forge_env_descendants() {
    local child
    for child in $(pgrep -P "$1" 2>/dev/null || true); do
        echo "$child"
        forge_env_descendants "$child"
    done
}

# Stops everything this library started, in order: ControlMaster connections, the processes
# under sshd (its sessions and what they run), sshd, forged. Safe to call more than once and
# from traps; never fails. Prints one line saying what it stopped unless FORGE_ENV_QUIET_STOP is
# set.
forge_env_stop() {
    [[ -z "$FORGE_ENV_STOPPED" ]] || return 0
    FORGE_ENV_STOPPED=1
    local alias child stopped=()
    for alias in "${FORGE_ENV_MASTERS[@]}"; do
        ssh -F "$FORGE_ENV_SSH_CONFIG" -O exit "$alias" >/dev/null 2>&1 || true
    done
    if [[ -n "$SSHD_PID" ]]; then
        # sshd's per-connection processes, and the commands they run, outlive the listener:
        # end every process under it first.
        for child in $(forge_env_descendants "$SSHD_PID"); do
            kill -TERM "$child" 2>/dev/null || true
        done
        forge_env_stop_pid "$SSHD_PID" sshd
        stopped+=("sshd (pid $SSHD_PID)")
        SSHD_PID=""
    fi
    if [[ -n "$FORGED_PID" ]]; then
        forge_env_stop_pid "$FORGED_PID" forged
        stopped+=("forged (pid $FORGED_PID)")
        FORGED_PID=""
    fi
    [[ -z "$FORGE_ENV_STATE" ]] || rm -f -- "$FORGE_ENV_STATE/forged.pid" "$FORGE_ENV_STATE/sshd.pid"
    if [[ -z "${FORGE_ENV_QUIET_STOP:-}" ]] && (( ${#stopped[@]} > 0 )); then
        local joined
        joined="$(printf '%s and ' "${stopped[@]}")"
        forge_env_say "stopped ${joined% and }"
    fi
    return 0
}
