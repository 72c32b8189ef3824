#!/usr/bin/env bash
# Check out the HyperPod dependencies helm chart at a pinned commit of
# aws/sagemaker-hyperpod-cli into .cache/ (git-ignored), then fetch its sub-charts.
# Terraform installs it from there (helm_release hyperpod_helm_dependencies_release);
# plan stops with a message naming this script while the chart is missing.
#
#   scripts/fetch-hyperpod-chart.sh            # the pinned commit
#   HYPERPOD_CLI_COMMIT=<sha> scripts/fetch-hyperpod-chart.sh
#
# Needs git and helm 3.
set -euo pipefail

REPOSITORY="https://github.com/aws/sagemaker-hyperpod-cli.git"
PINNED_COMMIT="067d658b2d5c3d347afbadd75e1425214e965dcb"
COMMIT="${HYPERPOD_CLI_COMMIT:-$PINNED_COMMIT}"

cd "$(dirname "$0")/.."
CHECKOUT=".cache/sagemaker-hyperpod-cli"
CHART="$CHECKOUT/helm_chart/HyperPodHelmChart"

for tool in git helm; do
  command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
done

if [ "$(git -C "$CHECKOUT" rev-parse HEAD 2>/dev/null || true)" != "$COMMIT" ]; then
  rm -rf "$CHECKOUT"
  mkdir -p "$CHECKOUT"
  git -C "$CHECKOUT" init --quiet
  git -C "$CHECKOUT" remote add origin "$REPOSITORY"
  git -C "$CHECKOUT" fetch --quiet --depth 1 origin "$COMMIT"
  git -C "$CHECKOUT" -c advice.detachedHead=false checkout --quiet FETCH_HEAD
fi

test -f "$CHART/Chart.yaml" || { echo "error: $CHART/Chart.yaml not found at $COMMIT" >&2; exit 1; }
helm dependency update "$CHART"
echo "HyperPod chart ready at $CHART (aws/sagemaker-hyperpod-cli@$COMMIT)"
