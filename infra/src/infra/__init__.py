"""The CDK app and the Lambda bundles of the services."""
