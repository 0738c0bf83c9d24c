FROM python:3.11-slim
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY api api
COPY workers workers
COPY scheduler scheduler
COPY models models
COPY pinghome pinghome
COPY config config
RUN pip install --no-cache-dir .
ENV PINGHOME_DATA_DIR=/var/lib/pinghome PINGHOME_BIND_HOST=0.0.0.0
EXPOSE 8000 8001
CMD ["pinghome", "up"]
