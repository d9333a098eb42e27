"""svc-auth's entry points: `app` for uvicorn, `handler` for AWS Lambda."""

from functools import partial
from pathlib import Path

from core.aws_lambda import lambda_handler, load_secret_environment
from core.config import PlatformSettings
from core.logging import configure_logging
from svc_auth.app import create_app
from svc_auth.bootstrap import ensure_bootstrap_admin

load_secret_environment()  # deployed: secrets named by SECRET_ENVIRONMENT; elsewhere nothing
platform = PlatformSettings()
configure_logging(platform.log_level)
app = create_app(platform=platform)
# After the deploy trigger's migrations: the bootstrap admin, whose password is a secret.
app.state.after_migrate = partial(ensure_bootstrap_admin, app.state.auth)
handler = lambda_handler(app, service_dir=Path(__file__).resolve().parent)
