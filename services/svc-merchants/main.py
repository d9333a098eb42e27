"""svc-merchants's entry points: `app` for uvicorn, `handler` for AWS Lambda."""

from pathlib import Path

from core.aws_lambda import lambda_handler, load_secret_environment
from core.config import PlatformSettings
from core.logging import configure_logging
from svc_merchants.app import create_app

load_secret_environment()  # deployed: secrets named by SECRET_ENVIRONMENT; elsewhere nothing
platform = PlatformSettings()
configure_logging(platform.log_level)
app = create_app(platform=platform)
handler = lambda_handler(app, service_dir=Path(__file__).resolve().parent)
