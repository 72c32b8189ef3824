"""Terraform-language tooling, analysis and offline Terraform runs, kept out of the constructs in modules/."""
