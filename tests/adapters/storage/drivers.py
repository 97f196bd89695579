"""Environment for each storage driver against the local test servers (127.0.0.1 only)."""

from tests.fakes.fake_dropbox import FakeDropbox
from tests.fakes.moto_s3 import FAKE_ENV

# Few, quick retries, so that faults beyond the budget cost milliseconds, not minutes.
FAST_RETRIES = {"RETRAIN_STORAGE_MAX_RETRIES": "1", "RETRAIN_STORAGE_RETRY_BASE_DELAY": "0.01"}


def dropbox_env(server: FakeDropbox, root: str = "/retrain-assets") -> dict[str, str]:
    """Variables that point the `dropbox` driver at a fake Dropbox with refresh-token auth."""
    acc = server.accounts
    return {
        "RETRAIN_DROPBOX_API_URL": f"http://127.0.0.1:{server.port}",
        "RETRAIN_DROPBOX_ROOT": root,
        "DROPBOX_REFRESH_TOKEN": acc.refresh_token,
        "DROPBOX_APP_KEY": acc.app_key,
        "DROPBOX_APP_SECRET": acc.app_secret,
        **FAST_RETRIES,
    }


def s3_env(endpoint_url: str, bucket: str) -> dict[str, str]:
    """Variables that point the `s3` driver at a moto server and one bucket."""
    return {
        **FAKE_ENV,
        "AWS_ENDPOINT_URL_S3": endpoint_url,
        "RETRAIN_S3_BUCKET": bucket,
        **FAST_RETRIES,
    }
