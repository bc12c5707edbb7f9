#!/bin/sh
# The package step, from one list: deps/debian-packages.txt (or LIST).
#   deps/deps.sh check [LIST]    (the start of `make check`) exit 0 if every
#       package's file is there; else one line on stderr naming the apt-get
#       command that installs what is missing, and exit 1.
#   deps/deps.sh install [LIST]  (`make deps`, .ci/run) installs what is
#       missing with that command when run as root; otherwise prints the
#       command and exits 1. Nothing missing: says so, exit 0.
#   deps/deps.sh list [LIST]     the package names on one line.
set -u
verb=${1:-}
list=${2:-$(dirname "$0")/debian-packages.txt}
[ -r "$list" ] || { echo "deps: cannot read the package list $list" >&2; exit 2; }

# "package probe" pairs, comments and blank lines dropped.
entries() { sed -e 's/#.*//' "$list" | awk 'NF'; }

# The packages whose probe (a glob) matches no file, on one line.
missing() {
	entries | while read -r pkg probe; do
		set -- $probe
		[ $# -gt 0 ] && [ -e "$1" ] || printf '%s ' "$pkg"
	done
}

command_for() { # packages...
	echo "apt-get update && apt-get install -y --no-install-recommends $*"
}

need=$(missing)
case $verb in
list)
	echo $(entries | awk '{ print $1 }')
	;;
check)
	[ -z "$need" ] && exit 0
	echo "missing Debian packages; as root run: $(command_for $need) (or: sudo make deps)" >&2
	exit 1
	;;
install)
	if [ -z "$need" ]; then
		echo "deps: all $(entries | wc -l) packages of $list are installed"
		exit 0
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "deps: not root; as root run: $(command_for $need)" >&2
		exit 1
	fi
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $need || exit 1
	need=$(missing)
	[ -z "$need" ] && exit 0
	echo "deps: installed, but the files that show $need are still missing: fix $list" >&2
	exit 1
	;;
*)
	echo "usage: deps/deps.sh check|install|list [LIST]" >&2
	exit 2
	;;
esac
