"""Messages (appeals): classifier, submission, routing, workflow, backoffice and cabinet."""
