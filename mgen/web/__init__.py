"""`mgen serve`: a web page and a JSON API to generate, see and hear music (the `web` extra).

catalog  the models a client may choose, by name: run directories under --runs, shipped models
limits   every bound on a request, each refused with a clear message and an HTTP 4xx
queue    generation off the event loop, a bounded number at a time, a bounded number waiting
service  the API's work, without HTTP: checks at once, then jobs sent to the worker lanes
engine   what a worker process does: load models, sample, write and draw samples, judge
worker   worker processes (quick and long lanes) with a time limit, killed with their group
judgecache  each model's judge data, built once in the background and kept on disk
paths    no path of the server's machine in an answer
middleware  Host and Origin checks, body size and time limits, the page's headers
views    one sample as the page shows it: notation SVG (verovio), notes for the roll and player
app      the FastAPI application: the page, its static files and the API
server   uvicorn, the address printed, a warning when bound beyond this machine
"""
