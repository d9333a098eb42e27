"""svc-auth's entry points: `app` for uvicorn, `handler` for AWS Lambda."""

from mangum import Mangum

from core.config import PlatformSettings
from core.logging import configure_logging
from svc_auth.app import create_app

platform = PlatformSettings()
configure_logging(platform.log_level)
app = create_app(platform=platform)
handler = Mangum(app, lifespan="off")
