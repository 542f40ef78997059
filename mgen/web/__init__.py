"""`mgen serve`: a web page and a JSON API to generate, see and hear music (the `web` extra).

catalog  the models a client may choose, by name: run directories under --runs, shipped models
limits   every bound on a request, each refused with a clear message and an HTTP 4xx
queue    generation off the event loop, a bounded number at a time, a bounded number waiting
service  loading models, sampling, writing and drawing samples, judging a batch
views    one sample as the page shows it: notation SVG (verovio), notes for the roll and player
app      the FastAPI application: the page, its static files and the API
server   uvicorn, the address printed, a warning when bound beyond this machine
"""
