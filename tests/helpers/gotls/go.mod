// SPDX-License-Identifier: Apache-2.0
module gotls

go 1.19
