.class public Lcom/stub/StubApp;
.super Landroid/app/Application;
.source "StubApp.java"

# Test fixture for fraudwall's APK analysis: stand-in for the 360 Jiagu packer stub.

.method public constructor <init>()V
    .registers 1
    invoke-direct {p0}, Landroid/app/Application;-><init>()V
    return-void
.end method

.method public static stubInfo()[Ljava/lang/String;
    .registers 4
    const/16 v0, 0x4
    new-array v0, v0, [Ljava/lang/String;
    const/16 v1, 0x0
    const-string v2, "com.stub.StubApp"
    aput-object v2, v0, v1
    const/16 v1, 0x1
    const-string v2, "libjiagu.so"
    aput-object v2, v0, v1
    const/16 v1, 0x2
    const-string v2, "libjiagu_a64.so"
    aput-object v2, v0, v1
    const/16 v1, 0x3
    const-string v2, "com.kefu.zhongxin.App"
    aput-object v2, v0, v1
    return-object v0
.end method
