#!/usr/bin/env bash
# Check out the HyperPod dependencies helm chart at a pinned commit of
# aws/sagemaker-hyperpod-cli into .cache/ (git-ignored), then fetch its sub-charts.
# Terraform installs it from there (helm_release hyperpod_helm_dependencies_release);
# plan stops with a message naming this script while the chart is missing.
set -euo pipefail

REPOSITORY="https://github.com/aws/sagemaker-hyperpod-cli.git"
PINNED_COMMIT="067d658b2d5c3d347afbadd75e1425214e965dcb"

usage() {
  cat <<USAGE
Usage: scripts/fetch-hyperpod-chart.sh [--help]

Checks out the HyperPod dependencies helm chart of aws/sagemaker-hyperpod-cli into
.cache/sagemaker-hyperpod-cli (git-ignored) and fetches its sub-charts with
\`helm dependency update\`. Terraform installs the chart from there. Needs git and helm 3,
and network access to github.com and the sub-charts' repositories.

Environment:
  HYPERPOD_CLI_COMMIT  commit to check out (default: the pinned ${PINNED_COMMIT})
USAGE
}

fail() {
  echo "error: $*" >&2
  exit 1
}

# --help is answered before anything else, so it works on a machine without git or helm.
case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  "") ;;
  *)
    usage >&2
    echo "error: unknown argument '$1'" >&2
    exit 2
    ;;
esac

COMMIT="${HYPERPOD_CLI_COMMIT:-${PINNED_COMMIT}}"
[[ "${COMMIT}" =~ ^[0-9a-f]{40}$ ]] ||
  fail "HYPERPOD_CLI_COMMIT '${COMMIT}' is not a full 40-character commit id"

missing=()
for tool in git helm; do
  command -v "${tool}" >/dev/null || missing+=("${tool}")
done
((${#missing[@]} == 0)) ||
  fail "${missing[*]} required to fetch the chart; install them (helm 3: https://helm.sh/docs/intro/install/)"

script_dir=$(dirname "${BASH_SOURCE[0]}")
cd "${script_dir}/.." || fail "cannot change to the repository root"
CHECKOUT=".cache/sagemaker-hyperpod-cli"
CHART="${CHECKOUT}/helm_chart/HyperPodHelmChart"

# No checkout yet reads as "another commit": rev-parse's failure is the expected answer then.
current=$(git -C "${CHECKOUT}" rev-parse HEAD 2>/dev/null) || current=""
if [[ "${current}" != "${COMMIT}" ]]; then
  rm -rf "${CHECKOUT}"
  mkdir -p "${CHECKOUT}"
  git -C "${CHECKOUT}" init --quiet
  git -C "${CHECKOUT}" remote add origin "${REPOSITORY}"
  git -C "${CHECKOUT}" fetch --quiet --depth 1 origin "${COMMIT}" ||
    fail "cannot fetch ${COMMIT} from ${REPOSITORY} (no network, or no such commit?)"
  git -C "${CHECKOUT}" -c advice.detachedHead=false checkout --quiet FETCH_HEAD
fi

[[ -f "${CHART}/Chart.yaml" ]] || fail "${CHART}/Chart.yaml not found at ${COMMIT}"
helm dependency update "${CHART}" || fail "helm dependency update ${CHART} failed (network?)"
echo "HyperPod chart ready at ${CHART} (aws/sagemaker-hyperpod-cli@${COMMIT})"
