#!/usr/bin/env bash
# Report the SageMaker HyperPod cluster's health. A thin wrapper: the Python entry point
# scripts/hyperpod_status.py does the work, so the checks are tested in one place.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: check-hyperpod-status.sh <hyperpod-cluster-name> <region> [options]
       check-hyperpod-status.sh --outputs FILE [--stack NAME] [options]

Reports the HyperPod cluster status, its instance groups and nodes (DescribeCluster,
ListClusterNodes), the HyperPod node health labels and aws-hyperpod pods when a kube
context for the EKS cluster exists, and an SSM command per node.

FILE is `cdktf output --outputs-file FILE` or `terraform output -json > FILE`.

Options: --json  --eks-cluster NAME  --kube-context NAME  --kubeconfig FILE

Exit codes: 0 healthy, 1 degraded or unhealthy, 2 cannot check, 3 unknown: the Kubernetes API
did not answer (or refused) through the cluster's kube context while the AWS side is healthy.
Every call is bounded: a server that accepts and never answers ends the check in about 15 s.
USAGE
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  "")
    usage >&2
    exit 2
    ;;
  *) ;; # arguments are Python's to check
esac

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-$repo_root/.venv/bin/python}"
if [[ ! -x "$python" ]]; then
  python="$(command -v python3 || true)"
fi
if [[ -z "$python" ]]; then
  echo "cannot check: no Python found (run \`make setup\`)" >&2
  exit 2
fi

# PYTHONPATH rather than cd, so relative paths in the arguments keep meaning what they say.
export PYTHONPATH="$repo_root${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" -m scripts.hyperpod_status "$@"
