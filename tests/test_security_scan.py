"""The security scan's own logic (checkov itself runs in `make scan` and CI)."""

from __future__ import annotations

from scripts.security_scan import Finding, Skip, load_skips, scannable


def test_scanned_copy_has_no_nulls_metadata_or_settings_block():
    document = {
        "//": {"metadata": {}},
        "terraform": {"required_version": ">= 1.10.0"},
        "resource": {"aws_security_group": {"g": {"ingress": [{"prefix_list_ids": None, "from_port": 22}], "x": None}}},
    }
    assert scannable(document) == {"resource": {"aws_security_group": {"g": {"ingress": [{"from_port": 22}]}}}}


def test_skip_matches_check_and_block_name():
    skip = Skip("CKV_AWS_38", "eks_control_plane_cluster", "reason " * 10)
    assert skip.matches(Finding("CKV_AWS_38", "resource.eks_control_plane_cluster", "t"))
    assert skip.matches(Finding("CKV_AWS_38", "aws_eks_cluster.eks_control_plane_cluster", "t"))
    assert skip.matches(Finding("CKV_AWS_38", "aws_eks_cluster.eks_control_plane_cluster[0]", "t"))
    assert not skip.matches(Finding("CKV_AWS_39", "resource.eks_control_plane_cluster", "t"))
    assert not skip.matches(Finding("CKV_AWS_38", "resource.other_cluster", "t"))


def test_every_skip_names_a_block_of_the_default_stack_with_a_reason(stack):
    names = {
        name
        for section in ("resource", "data")
        for blocks in stack.get(section, {}).values()
        for name in blocks
    }
    skips = load_skips()
    assert skips
    for skip in skips:
        assert skip.resource in names, f"{skip.check_id} names {skip.resource}, which the stack does not have"
        assert len(skip.reason) >= 80, f"{skip.check_id} on {skip.resource}: the reason is too thin"
