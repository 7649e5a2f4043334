# The image every node of the sweep runs: Ray's GPU image (the one cluster.yaml names) with
# this project and its dependencies installed, so nodes start ready.
#
#   docker build -t YOUR-REGISTRY/fakedet:ray2.60.0-py311-gpu .   # from the repository root
#   docker push YOUR-REGISTRY/fakedet:ray2.60.0-py311-gpu
#
# Use it in k8s/rayjob.yaml (KubeRay), or in cluster.yaml's docker.image, where the
# file_mounts + setup_commands then only refresh the code.
FROM rayproject/ray:2.60.0-py311-gpu

WORKDIR /home/ray/fakedet

# Dependencies first, in a layer of their own: they change far less often than the code.
COPY --chown=ray:users pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (not editable: the copy in the image is what runs), plus its scripts
# (sweeps/all_triples.py runs from here: the entrypoint names /home/ray/fakedet/sweeps/...).
COPY --chown=ray:users . .
RUN pip install --no-cache-dir --no-deps .

# Fashion-MNIST for the driver on the head (workers get it through Ray's object store),
# checked against the official md5s; drop this line to download it at the first run instead.
RUN python -m fakedet.data
