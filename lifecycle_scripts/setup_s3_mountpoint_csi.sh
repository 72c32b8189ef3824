#!/usr/bin/env bash
# Run by an operator (not by HyperPod) against the EKS cluster: gives pods an S3 bucket as a
# ReadWriteMany volume through the Mountpoint for Amazon S3 CSI driver.
#
#   1. an IAM policy with least-privilege access to the bucket (list, read, write, delete);
#   2. an IAM role for the driver's service account (kube-system/s3-csi-driver-sa), trusted
#      through the cluster's IAM OIDC provider (IRSA, the credential mode the add-on documents);
#   3. the aws-mountpoint-s3-csi-driver EKS add-on, using that role;
#   4. a PersistentVolume for the bucket and the PersistentVolumeClaim `s3-pvc` bound to it.
#
# Safe to rerun: what exists is reused or brought up to date. The operator's kubeconfig is left
# alone; kubectl talks to the cluster through a temporary one.
set -euo pipefail

SCRIPT_NAME=setup_s3_mountpoint_csi
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

usage() {
  cat <<'USAGE'
Usage: setup_s3_mountpoint_csi.sh [--help]

Installs the Mountpoint for Amazon S3 CSI driver on an EKS cluster and binds a bucket to the
PersistentVolumeClaim `s3-pvc`. Needs the aws CLI (credentials allowed to manage IAM and EKS)
and kubectl; the cluster needs an IAM OIDC provider.

Required environment:
  EKS_CLUSTER_NAME   the EKS cluster
  AWS_REGION         its region
  S3_BUCKET_NAME     the existing bucket to expose

Optional environment:
  PVC_NAMESPACE      namespace of the claim (default: default)
  S3_CSI_ROLE_NAME   IAM role name (default: <cluster>-s3-csi-driver)
  S3_CSI_POLICY_NAME IAM policy name (default: <cluster>-s3-csi-<bucket>)
USAGE
}

EKS_CLUSTER_NAME=${EKS_CLUSTER_NAME:-}
AWS_REGION=${AWS_REGION:-}
S3_BUCKET_NAME=${S3_BUCKET_NAME:-}

ADDON_NAME=aws-mountpoint-s3-csi-driver
SERVICE_ACCOUNT=s3-csi-driver-sa
SERVICE_ACCOUNT_NAMESPACE=kube-system
PVC_NAME=s3-pvc
# Kubernetes requires a size; the driver ignores it (a bucket has no capacity).
NOMINAL_CAPACITY=1200Gi

WORK_DIR=""
FOUND=false
cleanup() { [[ -z "$WORK_DIR" ]] || rm -rf "$WORK_DIR"; }

# Writes CONTENT to NAME in the work folder (documents and manifests handed to aws and kubectl).
write_work_file() {
  printf '%s\n' "$2" >"$WORK_DIR/$1" || die "cannot write $WORK_DIR/$1"
}

# Runs an AWS CLI lookup (the command after WHAT and MISSING_CODE) and sets FOUND. Only the
# error code AWS gives for an absent resource means "absent": any other failure (access denied,
# throttling, no network) stops the script, where taking it for "absent" would go on to create
# what already exists.
aws_lookup() {
  local what=$1 missing_code=$2 errors status=0
  shift 2
  errors=$("$@" 2>&1 >/dev/null) || status=$?
  if ((status == 0)); then
    FOUND=true
  elif [[ "$errors" == *"($missing_code)"* ]]; then
    FOUND=false
  else
    die "cannot look up $what (aws exited $status): ${errors//$'\n'/ }"
  fi
}

check_inputs() {
  require_env EKS_CLUSTER_NAME AWS_REGION S3_BUCKET_NAME
  require_tools aws kubectl
  require_bucket_name S3_BUCKET_NAME "$S3_BUCKET_NAME"
  PVC_NAMESPACE=${PVC_NAMESPACE:-default}
  ROLE_NAME=${S3_CSI_ROLE_NAME:-$EKS_CLUSTER_NAME-s3-csi-driver}
  POLICY_NAME=${S3_CSI_POLICY_NAME:-$EKS_CLUSTER_NAME-s3-csi-$S3_BUCKET_NAME}
  ((${#ROLE_NAME} <= 64)) ||
    die "IAM role name '$ROLE_NAME' is longer than 64 characters; set S3_CSI_ROLE_NAME"
  ((${#POLICY_NAME} <= 128)) ||
    die "IAM policy name '$POLICY_NAME' is longer than 128 characters; set S3_CSI_POLICY_NAME"
}

discover_account() {
  local caller_arn
  caller_arn=$(aws sts get-caller-identity --query Arn --output text) ||
    die "the aws CLI has no working credentials (aws sts get-caller-identity failed)"
  # arn:PARTITION:sts::ACCOUNT:...
  [[ "$caller_arn" =~ ^arn:([a-z-]+):sts::([0-9]{12}): ]] ||
    die "cannot read the partition and account from the caller ARN '$caller_arn'"
  PARTITION=${BASH_REMATCH[1]}
  ACCOUNT_ID=${BASH_REMATCH[2]}
}

discover_oidc_provider() {
  local issuer
  issuer=$(aws eks describe-cluster --name "$EKS_CLUSTER_NAME" --region "$AWS_REGION" \
    --query cluster.identity.oidc.issuer --output text) ||
    die "cannot describe EKS cluster '$EKS_CLUSTER_NAME' in $AWS_REGION"
  [[ "$issuer" == https://* ]] ||
    die "EKS cluster '$EKS_CLUSTER_NAME' reports no OIDC issuer URL (got '$issuer')"
  OIDC_HOST_PATH=${issuer#https://}
  OIDC_PROVIDER_ARN="arn:$PARTITION:iam::$ACCOUNT_ID:oidc-provider/$OIDC_HOST_PATH"
  aws_lookup "the IAM OIDC provider $OIDC_PROVIDER_ARN" NoSuchEntity \
    aws iam get-open-id-connect-provider --open-id-connect-provider-arn "$OIDC_PROVIDER_ARN"
  [[ "$FOUND" == true ]] ||
    die "cluster '$EKS_CLUSTER_NAME' has no IAM OIDC provider ($OIDC_HOST_PATH). Create it with:" \
      "eksctl utils associate-iam-oidc-provider --cluster $EKS_CLUSTER_NAME --region $AWS_REGION --approve"
}

bucket_policy_document() {
  cat <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "MountpointListBucket",
      "Effect": "Allow",
      "Action": ["s3:ListBucket"],
      "Resource": ["arn:$PARTITION:s3:::$S3_BUCKET_NAME"]
    },
    {
      "Sid": "MountpointObjectAccess",
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"],
      "Resource": ["arn:$PARTITION:s3:::$S3_BUCKET_NAME/*"]
    }
  ]
}
JSON
}

trust_policy_document() {
  cat <<JSON
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Principal": {"Federated": "$OIDC_PROVIDER_ARN"},
      "Action": "sts:AssumeRoleWithWebIdentity",
      "Condition": {
        "StringEquals": {
          "$OIDC_HOST_PATH:aud": "sts.amazonaws.com",
          "$OIDC_HOST_PATH:sub": "system:serviceaccount:$SERVICE_ACCOUNT_NAMESPACE:$SERVICE_ACCOUNT"
        }
      }
    }
  ]
}
JSON
}

ensure_policy() {
  local document
  POLICY_ARN="arn:$PARTITION:iam::$ACCOUNT_ID:policy/$POLICY_NAME"
  aws_lookup "IAM policy $POLICY_NAME" NoSuchEntity aws iam get-policy --policy-arn "$POLICY_ARN"
  if [[ "$FOUND" == true ]]; then
    log "IAM policy $POLICY_NAME exists; reusing it"
    return 0
  fi
  document=$(bucket_policy_document)
  write_work_file bucket-policy.json "$document"
  aws iam create-policy --policy-name "$POLICY_NAME" \
    --description "Mountpoint for Amazon S3 CSI driver access to $S3_BUCKET_NAME" \
    --policy-document "file://$WORK_DIR/bucket-policy.json" >/dev/null ||
    die "cannot create IAM policy $POLICY_NAME (aws exited $?)"
  log "created IAM policy $POLICY_NAME"
}

ensure_role() {
  local document
  document=$(trust_policy_document)
  write_work_file trust-policy.json "$document"
  aws_lookup "IAM role $ROLE_NAME" NoSuchEntity aws iam get-role --role-name "$ROLE_NAME"
  if [[ "$FOUND" == true ]]; then
    aws iam update-assume-role-policy --role-name "$ROLE_NAME" \
      --policy-document "file://$WORK_DIR/trust-policy.json" ||
      die "cannot update the trust policy of IAM role $ROLE_NAME (aws exited $?)"
    log "IAM role $ROLE_NAME exists; trust policy brought up to date"
  else
    aws iam create-role --role-name "$ROLE_NAME" \
      --description "Mountpoint for Amazon S3 CSI driver on $EKS_CLUSTER_NAME" \
      --assume-role-policy-document "file://$WORK_DIR/trust-policy.json" >/dev/null ||
      die "cannot create IAM role $ROLE_NAME (aws exited $?)"
    log "created IAM role $ROLE_NAME"
  fi
  # Attaching an attached policy is a no-op in IAM.
  aws iam attach-role-policy --role-name "$ROLE_NAME" --policy-arn "$POLICY_ARN" ||
    die "cannot attach IAM policy $POLICY_NAME to role $ROLE_NAME (aws exited $?)"
  ROLE_ARN="arn:$PARTITION:iam::$ACCOUNT_ID:role/$ROLE_NAME"
}

ensure_addon() {
  local cluster=(--cluster-name "$EKS_CLUSTER_NAME" --addon-name "$ADDON_NAME" --region "$AWS_REGION")
  aws_lookup "EKS add-on $ADDON_NAME" ResourceNotFoundException aws eks describe-addon "${cluster[@]}"
  if [[ "$FOUND" == true ]]; then
    aws eks update-addon "${cluster[@]}" --service-account-role-arn "$ROLE_ARN" >/dev/null ||
      die "cannot update EKS add-on $ADDON_NAME (aws exited $?)"
    log "updated EKS add-on $ADDON_NAME"
  else
    aws eks create-addon "${cluster[@]}" --service-account-role-arn "$ROLE_ARN" >/dev/null ||
      die "cannot create EKS add-on $ADDON_NAME (aws exited $?)"
    log "created EKS add-on $ADDON_NAME"
  fi
  log "waiting for $ADDON_NAME to become active"
  aws eks wait addon-active "${cluster[@]}" ||
    die "EKS add-on $ADDON_NAME did not become active (aws eks wait exited $?); see aws eks describe-addon ${cluster[*]}"
}

volume_manifests() {
  local pv_name="s3-pv-$S3_BUCKET_NAME"
  cat <<YAML
# Static provisioning: the driver mounts an existing bucket; the empty storageClassName keeps
# the default StorageClass out, and claimRef reserves the volume for s3-pvc alone.
apiVersion: v1
kind: PersistentVolume
metadata:
  name: $pv_name
spec:
  capacity:
    storage: $NOMINAL_CAPACITY
  accessModes:
    - ReadWriteMany
  storageClassName: ""
  persistentVolumeReclaimPolicy: Retain
  claimRef:
    namespace: $PVC_NAMESPACE
    name: $PVC_NAME
  mountOptions:
    - region $AWS_REGION
  csi:
    driver: s3.csi.aws.com
    volumeHandle: s3-csi-$S3_BUCKET_NAME
    volumeAttributes:
      bucketName: $S3_BUCKET_NAME
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: $PVC_NAME
  namespace: $PVC_NAMESPACE
spec:
  accessModes:
    - ReadWriteMany
  storageClassName: ""
  volumeName: $pv_name
  resources:
    requests:
      storage: $NOMINAL_CAPACITY
YAML
}

apply_volume() {
  local kubeconfig="$WORK_DIR/kubeconfig" document
  aws eks update-kubeconfig --name "$EKS_CLUSTER_NAME" --region "$AWS_REGION" \
    --kubeconfig "$kubeconfig" >/dev/null ||
    die "cannot reach EKS cluster '$EKS_CLUSTER_NAME' in $AWS_REGION (aws eks update-kubeconfig failed)"
  document=$(volume_manifests)
  write_work_file s3-volume.yaml "$document"
  kubectl --kubeconfig "$kubeconfig" apply -f "$WORK_DIR/s3-volume.yaml" ||
    die "kubectl apply of the PersistentVolume and PersistentVolumeClaim $PVC_NAME failed (exit $?)"
  log "PersistentVolumeClaim $PVC_NAMESPACE/$PVC_NAME is bound to s3://$S3_BUCKET_NAME"
}

main() {
  accept_only_help "$@"
  trap_errors
  check_inputs
  WORK_DIR=$(mktemp -d) || die "cannot create a temporary folder"
  trap cleanup EXIT
  discover_account
  discover_oidc_provider
  log "cluster $EKS_CLUSTER_NAME ($AWS_REGION), bucket $S3_BUCKET_NAME"
  ensure_policy
  ensure_role
  ensure_addon
  apply_volume
  log "done: mount the claim '$PVC_NAME' in pods of namespace $PVC_NAMESPACE"
}

main "$@"
