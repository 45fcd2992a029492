"""The baseline: a one-route FastAPI app, served by plain uvicorn."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
