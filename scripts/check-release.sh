#!/usr/bin/env bash
# check-release.sh TAG          before a release (.github/workflows/release.yml): TAG is vX.Y.Z
#                               (or vX.Y.Z-PRE), Cargo.toml's package version is X.Y.Z, and
#                               CHANGELOG.md has a dated "## [X.Y.Z] - YYYY-MM-DD" section
#                               with text and no TODO placeholder. Prints X.Y.Z.
# check-release.sh --notes X.Y.Z   prints that section's text: the GitHub release's notes.
# check-release.sh --changelog     CHANGELOG.md's shape only (scripts/test.sh runs it): an
#                               "## [Unreleased]" section first, then releases newest first,
#                               each "## [X.Y.Z] - YYYY-MM-DD" with a SemVer version, none twice.
# The version policy is docs/versioning.md.
set -euo pipefail
cd "$(dirname "$0")/.."

changelog=CHANGELOG.md
# SemVer 2.0.0's version core with an optional pre-release (no build metadata: tags carry none).
semver='(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?'

die() {
  echo "check-release: $*" >&2
  exit 1
}

[ -f "$changelog" ] || die "$changelog is missing"

# Every "## " heading of the changelog, in order.
headings() { grep -E '^## ' "$changelog" || true; }

check_changelog() {
  local first=1 line version day previous="" seen=" "
  while IFS= read -r line; do
    if [ "$first" = 1 ]; then
      [ "$line" = "## [Unreleased]" ] || die "$changelog: the first section must be '## [Unreleased]', not '$line'"
      first=0
      continue
    fi
    [[ $line =~ ^##\ \[($semver)\]\ -\ ([0-9]{4}-[0-9]{2}-[0-9]{2})$ ]] ||
      die "$changelog: '$line' is not '## [X.Y.Z] - YYYY-MM-DD' (Keep a Changelog, SemVer)"
    version=${BASH_REMATCH[1]}
    day=${BASH_REMATCH[-1]}
    if [ "$(date -d "$day" +%F 2>/dev/null)" != "$day" ]; then
      die "$changelog: $version has no real date ($day)"
    fi
    [[ $seen != *" $version "* ]] || die "$changelog: $version appears twice"
    seen+="$version "
    # Newest first: each release's core version is below the one above it.
    if [ -n "$previous" ] && ! version_lt "${version%%-*}" "${previous%%-*}" &&
      [ "${version%%-*}" != "${previous%%-*}" ]; then
      die "$changelog: $version is listed below $previous: releases go newest first"
    fi
    previous=$version
  done < <(headings)
  [ "$first" = 0 ] || die "$changelog has no '## [Unreleased]' section"
}

# version_lt A B: A < B, for X.Y.Z cores.
version_lt() {
  local a b i
  IFS=. read -r -a a <<<"$1"
  IFS=. read -r -a b <<<"$2"
  for i in 0 1 2; do
    [ "${a[i]}" -lt "${b[i]}" ] && return 0
    [ "${a[i]}" -gt "${b[i]}" ] && return 1
  done
  return 1
}

notes() {
  local version=$1
  awk -v heading="## [$version] - " '
    index($0, heading) == 1 { on = 1; next }
    on && /^## / { exit }
    on && /^\[[^]]+\]: / { exit }
    on { print }' "$changelog"
}

case ${1:-} in
  --changelog)
    [ "$#" -eq 1 ] || die "usage: $0 --changelog"
    check_changelog
    echo "check-release: $changelog has the Keep a Changelog shape"
    ;;
  --notes)
    [ "$#" -eq 2 ] || die "usage: $0 --notes X.Y.Z"
    text=$(notes "$2")
    [ -n "$(echo "$text" | tr -d '[:space:]')" ] || die "$changelog has no text for $2"
    printf '%s\n' "$text"
    ;;
  v*)
    [ "$#" -eq 1 ] || die "usage: $0 vX.Y.Z"
    tag=$1
    [[ $tag =~ ^v($semver)$ ]] || die "tag '$tag' is not vX.Y.Z or vX.Y.Z-PRE (SemVer)"
    version=${tag#v}
    check_changelog
    cargo_version=$(sed -n '/^\[package\]/,/^\[/ s/^version *= *"\([^"]*\)".*/\1/p' Cargo.toml)
    [ "$cargo_version" = "$version" ] ||
      die "tag $tag, but Cargo.toml's version is '$cargo_version': bump it (and Cargo.lock) first"
    headings | grep -Eq "^## \[${version//./\\.}\] - " ||
      die "$changelog has no '## [$version] - YYYY-MM-DD' section: move the Unreleased entries there"
    [ -n "$(notes "$version" | tr -d '[:space:]')" ] || die "$changelog's $version section is empty"
    if notes "$version" | grep -n 'TODO' >&2; then
      die "$changelog's $version section still has a TODO placeholder (above)"
    fi
    echo "$version"
    ;;
  *)
    die "usage: $0 vX.Y.Z | --notes X.Y.Z | --changelog"
    ;;
esac
