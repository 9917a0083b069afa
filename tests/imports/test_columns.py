from qualify.imports.columns import propose_mapping


def test_salesforce_hubspot_and_pipedrive_headers_are_recognised():
    assert propose_mapping(["First Name", "Email", "Company", "Lead Source", "Lead Status", "Created Date", "Lead Owner"], "leads") == {
        "First Name": "first_name", "Email": "email", "Company": "company", "Lead Source": "source", "Lead Status": "stage",
        "Created Date": "created", "Lead Owner": "owner"}
    hubspot = propose_mapping(["Email Address", "Company Name", "Lifecycle Stage", "Create Date", "Contact owner", "Original Source"], "leads")
    assert hubspot == {"Email Address": "email", "Company Name": "company", "Lifecycle Stage": "stage", "Create Date": "created",
                       "Contact owner": "owner", "Original Source": "source"}
    pipedrive = propose_mapping(["Person - Name", "Person - Email", "Organization - Name", "Deal - Won time"], "leads")
    assert pipedrive == {"Person - Name": "full_name", "Person - Email": "email", "Organization - Name": "company",
                         "Deal - Won time": "close_date"}
