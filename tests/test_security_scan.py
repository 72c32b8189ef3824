"""The security scan's own logic (checkov itself runs in `make scan` and CI)."""

from __future__ import annotations

from scripts.security_scan import Finding, Skip, load_skips, scannable


def test_scanned_copy_has_no_nulls_metadata_settings_or_moves():
    document = {
        "//": {"metadata": {}},
        "terraform": {"required_version": ">= 1.10.0"},
        "moved": [{"from": "aws_x.a", "to": "module.m.aws_x.a"}],
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


def test_every_skip_names_a_block_of_the_scanned_stacks_with_a_reason(synth, everything_on):
    names = {
        (module or "root", name)
        for overrides in ({}, everything_on)
        for module, document in synth(overrides).all_documents().items()
        for section in ("resource", "data")
        for blocks in document.get(section, {}).values()
        for name in blocks
    }
    skips = load_skips()
    assert skips
    for skip in skips:
        assert (skip.module, skip.resource) in names, f"{skip.check_id} names {skip.module}: {skip.resource}, which no stack has"
        assert len(skip.reason) >= 80, f"{skip.check_id} on {skip.resource}: the reason is too thin"


def test_findings_know_their_module():
    from scripts.security_scan import _module_of

    assert _module_of("/0/modules/hyperpod/main.tf.json") == "hyperpod"
    assert _module_of("/1/main.tf.json") == "root"
    skip = Skip("CKV2_AWS_5", "security_group", "reason " * 10, "hyperpod")
    assert skip.matches(Finding("CKV2_AWS_5", "aws_security_group.security_group", "t", "hyperpod"))
    assert not skip.matches(Finding("CKV2_AWS_5", "aws_security_group.security_group", "t", "root"))
