"""Peers of bench/search.ts (run by it with /usr/bin/python3; prints one JSON object per line).

  exact <vectors.f32> <dim> <n_db> <queries.i32> <k> <reps> <ids_out>
      numpy + OpenBLAS (set OPENBLAS_NUM_THREADS=1): scores = Q @ D^T, argpartition for the top k, then the k
      sorted; the whole 1,000 x 100,000 score matrix is materialised, as a numpy user would.
  ann-build <vectors.f32> <dim> <n_db> <queries.i32> <M> <efC> <index_out>
  ann-query <vectors.f32> <dim> <n_db> <queries.i32> <k> <reps> <exact_ids.i32> <index> <ef>
      hnswlib (Debian python3-hnswlib), space "ip" on normalised vectors, 1 thread for build and queries;
      recall@k against the exact ids that bench/search.ts computed.
"""
import json
import sys
import time

import numpy as np


def load(path, dim, n_db, queries_path):
    allv = np.fromfile(path, dtype=np.float32).reshape(-1, dim)
    db = allv[:n_db].copy()
    q = allv[np.fromfile(queries_path, dtype=np.int32)].copy()
    return db, q


def normalise(a):
    n = np.linalg.norm(a, axis=1, keepdims=True)
    n[n == 0] = 1
    return a / n


def exact(args):
    path, dim, n_db, qpath, k, reps, out = args[0], int(args[1]), int(args[2]), args[3], int(args[4]), int(args[5]), args[6]
    db, q = load(path, dim, n_db, qpath)
    dbn = normalise(db).astype(np.float32)
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        qn = normalise(q).astype(np.float32)
        s = qn @ dbn.T  # (queries, n_db)
        t1 = time.perf_counter()
        part = np.argpartition(-s, k, axis=1)[:, :k]
        top = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        ids = np.take_along_axis(part, order, axis=1)
        t2 = time.perf_counter()
        times.append((t2 - t0, t1 - t0, t2 - t1))
    ids.astype(np.int32).tofile(out)
    total, gemm, topk = sorted(times)[len(times) // 2]
    print(json.dumps({"peer": "numpy", "queries": len(q), "seconds": total, "gemm_s": gemm, "topk_s": topk,
                      "numpy": np.__version__}))


def ann_build(args):
    import hnswlib

    path, dim, n_db, qpath, m, efc, out = args[0], int(args[1]), int(args[2]), args[3], int(args[4]), int(args[5]), args[6]
    db, _ = load(path, dim, n_db, qpath)
    index = hnswlib.Index(space="ip", dim=dim)
    index.init_index(max_elements=n_db, ef_construction=efc, M=m, random_seed=100)
    index.set_num_threads(1)
    t0 = time.perf_counter()
    index.add_items(normalise(db).astype(np.float32), np.arange(n_db), num_threads=1)
    print(json.dumps({"peer": "hnswlib", "case": "build", "seconds": time.perf_counter() - t0}))
    index.save_index(out)


def ann_query(args):
    import hnswlib

    path, dim, n_db, qpath, k, reps = args[0], int(args[1]), int(args[2]), args[3], int(args[4]), int(args[5])
    truth = np.fromfile(args[6], dtype=np.int32).reshape(-1, k)
    index_path, ef = args[7], int(args[8])
    _, q = load(path, dim, n_db, qpath)
    index = hnswlib.Index(space="ip", dim=dim)
    index.load_index(index_path, max_elements=n_db)
    index.set_num_threads(1)
    index.set_ef(ef)
    qn = normalise(q).astype(np.float32)
    labels, _ = index.knn_query(qn, k=k, num_threads=1)  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        labels, _ = index.knn_query(qn, k=k, num_threads=1)
        times.append(time.perf_counter() - t0)
    recall = np.mean([len(set(labels[i]) & set(truth[i])) / k for i in range(len(qn))])
    sec = sorted(times)[len(times) // 2]
    print(json.dumps({"peer": "hnswlib", "case": "query", "ef": ef, "qps": len(qn) / sec, "recall": recall}))


if __name__ == "__main__":
    {"exact": exact, "ann-build": ann_build, "ann-query": ann_query}[sys.argv[1]](sys.argv[2:])
