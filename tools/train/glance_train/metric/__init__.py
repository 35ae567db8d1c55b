"""Certified-robust Mahalanobis metric learning (papers.md §7): LMNN, LMNN-PL and the noise benchmark.

- :mod:`.triplets`: target neighbours (Euclidean, fixed) and the impostors inside the margin.
- :mod:`.perturbation`: the closed-form nearest adversarial example of a triplet and its loss and gradient.
- :mod:`.lmnn`: the objective (pull + hinge [+ perturbation]) and projected gradient descent on the PSD cone.
- :mod:`.knn`: kNN under a learnt metric, and the certified 1-NN radius the hyperplane distances give.
- :mod:`.bench` / :mod:`.report`: the benchmark on real tabular data and its JSON, PNG and markdown.
"""
