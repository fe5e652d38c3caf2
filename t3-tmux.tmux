#!/usr/bin/env bash
# t3-tmux inside tmux, for one person (single-user mode). Load it with TPM
#   set -g @plugin '<where you keep t3-tmux>'
# or from ~/.tmux.conf:
#   run-shell ~/t3-tmux/t3-tmux.tmux
# Keys (after the prefix), each an option you may change before it loads ('none': no binding):
#   @t3-menu-key  R   a menu, newest first, of the saved sessions not live now; a second page of
#                     snapshots; choosing one brings it back (t3-restore --menu)
#   @t3-save-key  S   save now; the status line says what was saved
# Names and titles from your files are shown as text by t3 itself: nothing here reads them.
set -eu

dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# The path goes into tmux key bindings unquoted (as t3-restore's menu items do): plain paths only.
case "$dir" in
  *[!A-Za-z0-9/._+-]*) tmux display-message "t3-tmux: its checkout's path has characters a key binding cannot carry; move it to a plain path"; exit 0 ;;
esac

# The caches t3-reconcile warms for your units (base/Mode.java cacheDir: the same rule), so a key
# runs offline and at once; without them, JBang's own (the first press builds the scripts).
cache="${XDG_CACHE_HOME:-}"
case "$cache" in /*) ;; *) cache="$HOME/.cache" ;; esac
cache="$cache/t3-tmux"
run="$dir/jbang --quiet"
case "$cache" in
  *[!A-Za-z0-9/._+-]*) ;;
  *) if [ -d "$cache/m2" ]; then
       run="env JBANG_DIR=$cache/jbang JBANG_REPO=$cache/m2 JBANG_NO_VERSION_CHECK=true T3_JBANG_BUNDLED=1 $dir/jbang --quiet --offline"
     fi ;;
esac

option() {
  local v
  v=$(tmux show-option -gqv "$1")
  printf '%s' "${v:-$2}"
}

menu_key=$(option @t3-menu-key R)
save_key=$(option @t3-save-key S)
# #{client_name} is filled in by run-shell when the key is pressed: the terminal to answer on.
[ "$menu_key" = none ] || tmux bind-key "$menu_key" run-shell -b "$run $dir/t3-restore.java --menu sessions --tmux-client '#{client_name}'"
[ "$save_key" = none ] || tmux bind-key "$save_key" run-shell -b "$run $dir/t3-save.java --tmux-client '#{client_name}'"
