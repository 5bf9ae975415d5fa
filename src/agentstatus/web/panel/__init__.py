"""The agent's status panel, embedded in the CRM: a page to put in an ``<iframe>`` and a
custom element (``<agentstatus-panel>``) to put in the CRM's own page, both driven by one
script and authorised by a panel link alone (no cookie), across origins the organisation
lists."""
