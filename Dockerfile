# syntax=docker/dockerfile:1
# The retrain-assets code location: its gRPC code server, and the image of every run and step pod
# (the run launcher and the k8s executor reuse the image the code server reports).
#
#   docker build --target cpu  -t registry.example.com/retrain-assets:0.1.0-cpu  .
#   docker build --target cuda -t registry.example.com/retrain-assets:0.1.0-cuda .
#
# `cpu` is the last stage, so a plain `docker build .` builds it.

FROM python:3.11-slim-bookworm AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, pinned and without resolution (deploy/lock.py writes the lock), so a code
# change does not reinstall them; `pip check` fails the build if the pins do not fit together.
COPY deploy/requirements.lock deploy/requirements.lock
RUN pip install --no-deps -r deploy/requirements.lock && pip check
# The project itself, as a regular (non-editable) install into the venv (pip fetches the build
# backend, setuptools>=68, for this build only; it does not end up in the image).
COPY pyproject.toml ./
COPY retrain_assets retrain_assets
COPY resources resources
COPY sensors sensors
RUN pip install --no-deps . && pip check

FROM python:3.11-slim-bookworm AS runtime
# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can check it and fsGroup can match it.
RUN groupadd --system --gid 10001 retrain \
    && useradd --system --uid 10001 --gid 10001 --home-dir /opt/dagster --shell /usr/sbin/nologin retrain \
    && mkdir -p /opt/dagster/dagster_home /opt/dagster/app /var/lib/retrain/artifacts \
    && chown -R 10001:10001 /opt/dagster/dagster_home /var/lib/retrain
# The venv holds the dependencies and the project's packages (retrain_assets, resources,
# sensors); it stays root-owned, so the running code cannot change itself.
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    RETRAIN_ARTIFACT_ROOT=/var/lib/retrain/artifacts
WORKDIR /opt/dagster/app
USER 10001:10001
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["dagster", "api", "grpc-health-check", "-p", "4000"]
# CMD, not ENTRYPOINT: the Helm chart (code server) and the run launcher and k8s executor (run
# and step pods) set only the container's `args`, which replace CMD; an ENTRYPOINT would be
# prepended to every one of their commands.
CMD ["dagster", "code-server", "start", "-h", "0.0.0.0", "-p", "4000", "-m", "retrain_assets.definitions"]

# GPU training. The catboost 1.2.10 Linux wheel from PyPI is built with CUDA support and links
# the CUDA libraries statically (catboost.ai, "Python package installation: GPU system
# requirements"): it needs only the NVIDIA driver (>= 450.80.02), whose libcuda and NVML the
# NVIDIA container toolkit mounts into the container. So this is the same runtime, no
# nvidia/cuda base image: the variables below ask the toolkit for the compute and utility
# (NVML, nvidia-smi) driver parts. Training picks task_type GPU when adapters/hardware.py finds a
# device (CUDA_VISIBLE_DEVICES, else NVML, else nvidia-smi); RETRAIN_K8S_GPU=true makes the k8s
# executor's training pod ask for one `nvidia.com/gpu` (adapters/step_pods.py). In Kubernetes the
# device plugin replaces NVIDIA_VISIBLE_DEVICES with the training pod's own GPU, and the GPU
# nodes' taint keeps this image's other pods (code server, run and light step pods) off them.
FROM runtime AS cuda
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=compute,utility \
    RETRAIN_K8S_GPU=true

FROM runtime AS cpu
