# The 256-trial run's best matmul trace (v0.json, exported with `colt best`) and five variants
# that block the reduction GotoBLAS-style (k split in kc-sized blocks outside an i2 x j2 block of
# register tiles, the write cache at j1 holding that block), written next to it.
import json, copy
t = json.load(open('v0.json'))
def var(name, i, j, k, order):
    u = copy.deepcopy(t)
    for ins in u['insts']:
        if ins['stage'] == 'matmul' and ins['inst'] == 'split':
            ins['factors'] = {'i': i, 'j': j, 'k': k}[ins['loop']]
        if ins['stage'] == 'matmul' and ins['inst'] == 'reorder':
            ins['order'] = order
    json.dump(u, open(name + '.json', 'w'))
S = ["i0", "j0", "i1", "j1", "k0", "i2", "j2", "k1", "i3", "j3"]
J = ["i0", "j0", "i1", "j1", "k0", "j2", "i2", "k1", "i3", "j3"]
var('v1', [17, 1, 10, 6], [4, 4, 4, 16], [4, 256], S)
var('v2', [17, 1, 10, 6], [4, 4, 4, 16], [4, 256], J)
var('v3', [34, 1, 5, 6], [4, 4, 4, 16], [8, 128], J)
var('v4', [17, 1, 10, 6], [2, 4, 8, 16], [4, 256], J)
var('v5', [170, 1, 1, 6], [4, 16, 1, 16], [4, 256], S)
