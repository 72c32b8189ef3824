# Karpenter and SageMaker HyperPod on an EKS cluster and VPC that already exist, from the
# reusable modules that `make modules` writes to dist/terraform-modules/.
#
#   make modules
#   cd examples/hcl && cp terraform.tfvars.example terraform.tfvars   # then edit it
#   terraform init && terraform apply

terraform {
  required_version = ">= 1.10.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25.0"
    }
    helm = {
      source  = "hashicorp/helm"
      version = "~> 3.1.1"
    }
  }
}

variable "region" {
  type        = string
  description = "Region of the EKS cluster."
}

variable "eks_cluster_name" {
  type        = string
  description = "The existing EKS cluster."
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster."
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Private subnets for the HyperPod nodes."
}

variable "private_subnet_zones" {
  type        = list(string)
  description = "Availability zone of each private subnet, in the same order."
}

variable "eks_node_security_group_id" {
  type        = string
  description = "Security group of the cluster's nodes."
}

variable "hyperpod_instance_groups" {
  type        = any
  description = "HyperPod instance groups (see the hyperpod module's variable for the fields)."
}

variable "karpenter_gpu_instance_types" {
  type        = list(string)
  default     = ["p5.48xlarge"]
  description = "Instance types of the GPU pool; the pool and its node class are named after their GPUs."
}

variable "karpenter_controller_node_selector" {
  type        = map(string)
  default     = { "kubernetes.io/os" = "linux", "karpenter.sh/controller" = "true" }
  description = "Labels of your nodes the Karpenter controller runs on (never nodes Karpenter launches)."
}

variable "karpenter_discovery_tag_key" {
  type        = string
  default     = "karpenter.sh/discovery"
  description = "Tag key on the subnets and security groups the nodes Karpenter launches use."
}

variable "karpenter_discovery_tag_value" {
  type        = string
  default     = ""
  description = "Value of that tag; empty means the cluster's name."
}

variable "cluster_ready" {
  type        = list(string)
  default     = []
  description = "IDs the charts wait for: the cluster's node group and CoreDNS add-on, when this configuration creates them."
}

provider "aws" {
  region = var.region
}

data "aws_eks_cluster" "this" {
  name = var.eks_cluster_name
}

provider "helm" {
  kubernetes = {
    host                   = data.aws_eks_cluster.this.endpoint
    cluster_ca_certificate = base64decode(data.aws_eks_cluster.this.certificate_authority[0].data)
    exec = {
      api_version = "client.authentication.k8s.io/v1beta1"
      command     = "aws"
      args        = ["eks", "get-token", "--cluster-name", var.eks_cluster_name, "--region", var.region, "--output", "json"]
    }
  }
}

module "karpenter" {
  source = "../../dist/terraform-modules/karpenter"

  cluster_name            = data.aws_eks_cluster.this.name
  cluster_endpoint        = data.aws_eks_cluster.this.endpoint
  cluster_ready           = var.cluster_ready
  gpu_pool_instance_types = var.karpenter_gpu_instance_types

  # Where the controller runs and how node classes find subnets and security groups:
  # by default nodes labelled karpenter.sh/controller=true and the tag
  # karpenter.sh/discovery=<cluster name>. Label and tag yours, or point these elsewhere.
  controller_node_selector = var.karpenter_controller_node_selector
  discovery_tag_key        = var.karpenter_discovery_tag_key
  discovery_tag_value      = var.karpenter_discovery_tag_value
}

module "hyperpod" {
  source = "../../dist/terraform-modules/hyperpod"

  name                          = var.eks_cluster_name
  eks_cluster_name              = data.aws_eks_cluster.this.name
  eks_cluster_arn               = data.aws_eks_cluster.this.arn
  eks_cluster_version           = data.aws_eks_cluster.this.version
  eks_cluster_security_group_id = data.aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
  eks_node_security_group_id    = var.eks_node_security_group_id
  vpc_id                        = var.vpc_id
  private_subnet_ids            = var.private_subnet_ids
  private_subnet_zones          = var.private_subnet_zones
  instance_groups               = var.hyperpod_instance_groups
  cluster_ready                 = var.cluster_ready
}

output "hyperpod_cluster_arn" {
  value = module.hyperpod.cluster_arn
}

output "hyperpod_cluster_status" {
  value = module.hyperpod.cluster_status
}

output "karpenter_node_iam_role_name" {
  value = module.karpenter.node_iam_role_name
}
