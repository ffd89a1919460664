# One image for web, workers and beat. Build: docker compose build
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 MONITOR_DATA_DIR=/data
WORKDIR /app
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY workers ./workers
COPY dashboard ./dashboard
RUN pip install --no-cache-dir .
COPY manage.py ./
COPY seeds ./seeds
RUN useradd --create-home vigie && mkdir -p /data && chown vigie /data
USER vigie
EXPOSE 8000
CMD ["gunicorn", "monitor.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
