"""review/diagram.py: the architecture diagram is drawn from the templates as an SVG that names what it shows."""

import xml.etree.ElementTree as ElementTree

SVG = "{http://www.w3.org/2000/svg}"


def test_diagram_is_an_svg_naming_the_cluster_profiles_and_endpoints(default_app, default_review):
    diagram = default_review.parent / "architecture.svg"
    root = ElementTree.parse(diagram).getroot()  # well-formed XML
    assert root.tag == f"{SVG}svg"
    assert int(root.get("width")) >= 1200 and int(root.get("height")) >= 700
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    (cluster,) = default_app.resources("Dev/Cluster", "AWS::EKS::Cluster").values()
    assert f"EKS cluster {cluster['Properties']['Name']}" in text
    profiles = default_app.resources("Dev/Cluster", "AWS::EKS::FargateProfile")
    assert profiles
    for profile in profiles.values():
        assert f"Fargate profile {profile['Properties']['FargateProfileName']}" in text
    endpoints = default_app.resources("Dev/Endpoints", "AWS::EC2::VPCEndpoint")
    assert endpoints
    for endpoint in endpoints.values():
        assert f"{endpoint['Metadata']['Purpose']['Service']} (" in text
    arrows = list(root.iter(f"{SVG}line"))
    assert len(arrows) > len(endpoints)  # an arrow to each service, and from the consumers to their endpoints
    assert "![architecture](architecture.svg)" in default_review.read_text()
