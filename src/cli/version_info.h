/* SPDX-License-Identifier: MIT */
/*
 * What `paddock --version` prints: the version, the git revision when built
 * from a git checkout, and the libraries paddock was built with, each with
 * the version found at run time when that differs (curl -V does the same).
 */
#pragma once

#include <stdio.h>

/* Print the version lines to f. */
void version_info_print(FILE *f);
