#!/usr/bin/env bash
# shellcheck disable=SC2016  # the jq programs reference jq variables ($rig_label...), not shell ones
# Run by an operator (not by HyperPod) against the EKS cluster before adding a Restricted
# Instance Group (RIG). RIG nodes do not run lifecycle scripts; they carry the label
# sagemaker.amazonaws.com/instance-group-type=Restricted and the taint
# sagemaker.amazonaws.com/RestrictedNode=Worker:NoSchedule, and their network only reaches
# instance metadata (IMDS), not the EC2 API. So the cluster's own components must be adapted:
#
#   aws-node (VPC CNI)   a separate rig-aws-node DaemonSet for RIG nodes in IMDS-only mode with
#                        prefix delegation; the regular aws-node is kept off RIG nodes.
#   coredns              a rig-coredns DaemonSet on RIG nodes, so name resolution does not
#                        depend on (or overload) the few regular CoreDNS replicas.
#   training operator    tolerates the RIG taint (jobs on RIG nodes need it) and prefers
#                        regular nodes when there are any.
#   EFA device plugin    tolerates the RIG taint and pulls its image from the cluster's region.
#
# Prerequisites: the vpc-cni (v1.19.6 or later) and coredns EKS add-ons, and the HyperPod
# dependencies Helm chart. Rerun after updating either add-on or the chart: updates may
# restore the objects patched here. Safe to rerun.
set -euo pipefail

SCRIPT_NAME=install_rig_dependencies
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: install_rig_dependencies.sh [--help]

Adapts aws-node, CoreDNS, the training operator and the EFA device plugin of an EKS cluster
for SageMaker HyperPod Restricted Instance Groups. Needs the aws CLI, kubectl and jq.

Required environment:
  EKS_CLUSTER_NAME        the EKS cluster
  AWS_REGION              its region

Optional environment:
  HYPERPOD_HELM_RELEASE   release name of the HyperPod dependencies chart
                          (default: hyperpod-dependencies)
USAGE
}

EKS_CLUSTER_NAME=${EKS_CLUSTER_NAME:-}
AWS_REGION=${AWS_REGION:-}
HYPERPOD_HELM_RELEASE=${HYPERPOD_HELM_RELEASE:-hyperpod-dependencies}

RIG_LABEL=sagemaker.amazonaws.com/instance-group-type
RIG_LABEL_VALUE=Restricted
RIG_TAINT=sagemaker.amazonaws.com/RestrictedNode
RIG_TAINT_VALUE=Worker
# The first VPC CNI release with IMDS-only mode, which RIG nodes need.
MIN_VPC_CNI_VERSION=1.19.6

# jq definitions shared by the transformations below.
JQ_LIB='
def rig_toleration: {key: $taint, operator: "Equal", value: $taint_value, effect: "NoSchedule"};
def tolerate_rig:
  .spec.template.spec.tolerations =
    (((.spec.template.spec.tolerations // []) | map(select(.key != $taint))) + [rig_toleration]);
def rig_node_term($op):
  .spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms |=
    ((. // [{}]) | map(.matchExpressions =
      (((.matchExpressions // []) | map(select(.key != $rig_label)))
        + [{key: $rig_label, operator: $op, values: [$rig_value]}])));
def as_new_object($name):
  del(.status, .metadata.uid, .metadata.resourceVersion, .metadata.creationTimestamp,
      .metadata.generation, .metadata.managedFields, .metadata.ownerReferences)
  | .metadata.annotations = ((.metadata.annotations // {})
      | del(.["deprecated.daemonset.template.generation"],
            .["deployment.kubernetes.io/revision"],
            .["kubectl.kubernetes.io/last-applied-configuration"]))
  | .metadata.name = $name;
'

WORK_DIR=""
# kubectl talks to the cluster through a temporary kubeconfig; the operator's is left alone.
KUBECTL=()
cleanup() { [[ -z "$WORK_DIR" ]] || rm -rf "$WORK_DIR"; }

# Prints FILTER applied to the JSON on stdin; WHAT names the object in the error.
rig_jq() {
  local what=$1 filter=$2
  jq --arg rig_label "$RIG_LABEL" --arg rig_value "$RIG_LABEL_VALUE" \
    --arg taint "$RIG_TAINT" --arg taint_value "$RIG_TAINT_VALUE" \
    --arg region "$AWS_REGION" "$JQ_LIB $filter" ||
    die "cannot adapt $what: jq exited $?"
}

fetch() {
  local kind=$1 namespace=$2 name=$3 hint=$4
  "${KUBECTL[@]}" get "$kind" "$name" --namespace "$namespace" --output json ||
    die "$kind $namespace/$name not found: $hint"
}

# Replaces the object only when the transformation changes it, so a rerun touches nothing.
patch_object() {
  local kind=$1 namespace=$2 name=$3 hint=$4 filter=$5 current desired current_sorted desired_sorted
  current=$(fetch "$kind" "$namespace" "$name" "$hint")
  desired=$(rig_jq "$kind $namespace/$name" "$filter" <<<"$current")
  # Each normalisation on its own line: a jq failure inside a comparison would read as "equal".
  current_sorted=$(jq -S . <<<"$current") || die "cannot read $kind $namespace/$name as JSON (jq exited $?)"
  desired_sorted=$(jq -S . <<<"$desired") || die "cannot read the adapted $kind $namespace/$name (jq exited $?)"
  if [[ "$current_sorted" == "$desired_sorted" ]]; then
    log "$kind $namespace/$name already adapted"
    return 0
  fi
  printf '%s\n' "$desired" >"$WORK_DIR/$name.json" || die "cannot write $WORK_DIR/$name.json"
  "${KUBECTL[@]}" replace -f "$WORK_DIR/$name.json" ||
    die "kubectl replace of $kind $namespace/$name failed (exit $?)"
  log "adapted $kind $namespace/$name"
}

apply_derived_object() {
  local name=$1 source_json=$2 filter=$3 object
  object=$(rig_jq "$name" "$filter" <<<"$source_json")
  printf '%s\n' "$object" >"$WORK_DIR/$name.json" || die "cannot write $WORK_DIR/$name.json"
  "${KUBECTL[@]}" apply -f "$WORK_DIR/$name.json" || die "kubectl apply of $name failed (exit $?)"
  log "applied $name"
}

check_vpc_cni_version() {
  local image tag version lowest
  image=$(jq -r '.spec.template.spec.containers[] | select(.name == "aws-node") | .image' <<<"$1") ||
    die "cannot read the aws-node image from the aws-node DaemonSet (jq exited $?)"
  tag=${image##*:}
  version=${tag#v}
  version=${version%%-*}
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
    die "cannot tell the VPC CNI version from the aws-node image '$image'"
  lowest=$(sort -V <<<"$version"$'\n'"$MIN_VPC_CNI_VERSION") || die "sort -V failed comparing VPC CNI versions"
  if [[ "${lowest%%$'\n'*}" != "$MIN_VPC_CNI_VERSION" ]]; then
    die "aws-node runs VPC CNI $tag; RIG nodes need v$MIN_VPC_CNI_VERSION or later." \
      "Update the vpc-cni add-on: aws eks update-addon --cluster-name $EKS_CLUSTER_NAME --addon-name vpc-cni"
  fi
}

adapt_aws_node() {
  local aws_node
  aws_node=$(fetch daemonset kube-system aws-node "enable the vpc-cni EKS add-on first")
  check_vpc_cni_version "$aws_node"
  apply_derived_object rig-aws-node "$aws_node" '
    as_new_object("rig-aws-node") | rig_node_term("In")
    | .spec.template.spec.containers |= map(
        if .name == "aws-node" then
          .env = (((.env // []) | map(select(.name != "ENABLE_IMDS_ONLY_MODE" and .name != "ENABLE_PREFIX_DELEGATION")))
                  + [{name: "ENABLE_IMDS_ONLY_MODE", value: "true"},
                     {name: "ENABLE_PREFIX_DELEGATION", value: "true"}])
        else . end)'
  patch_object daemonset kube-system aws-node "enable the vpc-cni EKS add-on first" \
    'rig_node_term("NotIn")'
}

adapt_coredns() {
  local coredns
  coredns=$(fetch deployment kube-system coredns "enable the coredns EKS add-on first")
  apply_derived_object rig-coredns "$coredns" '
    as_new_object("rig-coredns") | .kind = "DaemonSet"
    | del(.spec.replicas, .spec.strategy, .spec.progressDeadlineSeconds,
          .spec.revisionHistoryLimit, .spec.template.spec.topologySpreadConstraints)
    | .spec.updateStrategy = {type: "RollingUpdate", rollingUpdate: {maxUnavailable: 1}}
    | .spec.template.spec.nodeSelector = {($rig_label): $rig_value}
    | tolerate_rig'
}

adapt_hyperpod_components() {
  local release=$1
  local hint="install the HyperPod dependencies Helm chart first (release '$release', or set HYPERPOD_HELM_RELEASE)"
  patch_object deployment kubeflow "$release-training-operators" "$hint" '
    tolerate_rig
    | .spec.template.spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution =
        [{weight: 100, preference: {matchExpressions: [{key: $rig_label, operator: "NotIn", values: [$rig_value]}]}}]'
  patch_object daemonset kube-system "$release-aws-efa-k8s-device-plugin" "$hint" '
    tolerate_rig
    | .spec.template.spec.containers |= map(
        if .name == "aws-efa-k8s-device-plugin" then
          .image |= sub("\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com"; ".dkr.ecr.\($region).amazonaws.com")
        else . end)'
}

main() {
  accept_only_help "$@"
  trap_errors
  require_env EKS_CLUSTER_NAME AWS_REGION
  require_tools aws kubectl jq
  local release=$HYPERPOD_HELM_RELEASE kubeconfig
  WORK_DIR=$(mktemp -d) || die "cannot create a temporary folder"
  trap cleanup EXIT
  kubeconfig="$WORK_DIR/kubeconfig"
  KUBECTL=(kubectl --kubeconfig "$kubeconfig")
  aws eks update-kubeconfig --name "$EKS_CLUSTER_NAME" --region "$AWS_REGION" \
    --kubeconfig "$kubeconfig" >/dev/null ||
    die "cannot reach EKS cluster '$EKS_CLUSTER_NAME' in $AWS_REGION (aws eks update-kubeconfig failed)"
  log "cluster $EKS_CLUSTER_NAME ($AWS_REGION), HyperPod chart release $release"
  adapt_aws_node
  adapt_coredns
  adapt_hyperpod_components "$release"
  log "done: the cluster is ready for Restricted Instance Groups"
}

main "$@"
